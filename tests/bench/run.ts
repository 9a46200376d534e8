/**
 * `bun run bench [-- options]`: load benchmark of the service on PostgreSQL, then the money invariants.
 *
 * By default it creates a database `wallet_bench_<random>` on DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres), starts `bun src/main.ts` on it with rate limiting off,
 * and drops the database at the end (--keep keeps it). With BENCH_URL and BENCH_ADMIN_KEY (and
 * DATABASE_URL naming that service's database) it runs against an already running service instead.
 *
 * Scenarios, each with autocannon for --duration seconds at --connections connections:
 *   (a) GET /v1/wallets/{id}, rotating over 501 wallets;
 *   (a') the same with a key made through the API with the scope `read` only;
 *   (b) captured authorizations, rotating over 200 cards of 200 user wallets (all approved);
 *   (b') the same with a key with the scope `authorize` only;
 *   (r) the read ceiling: the reads of (a) against raw Bun.serve + pg on the same database
 *       (tests/bench/ceiling.ts), to show what the service's read path costs;
 *   (c) authorizations on one team wallet, rotating over its 50 cards (holds, limits and declines).
 * The primed scenarios measure what scopes and the key cache cost against the admin key; the summary
 * prints the difference.
 * Then every invariant is checked in SQL; the exit code is 1 if one fails, or if the service answered
 * with a 5xx, dropped a connection, or lost a 201 during the load.
 *
 * With --pgbench the summary ends with the goals of the read and spend paths (reads ≥ 0.85 of the
 * ceiling, spread spends ≥ 0.80 of pgbench, the hot wallet ≥ 0.90 of spread, p99 ≤ 30 ms, no
 * non-2xx), each met or not; they do not change the exit code.
 *
 * Options: --duration <s> (10), --connections <32-64> (32), --pgbench (also `pgbench -c 16 -T 15`
 * at scale 10 on a scratch database of the same server), --instances <1-8> (1: that many service
 * instances on the one database, behind HAProxy when more than one), --categorised-limits (every
 * card also gets three limits on merchant categories, two of which cap every bench spend, to compare
 * with a run without), --pglite (see below), --keep, --json, --help.
 *
 * With --hook, a local authorization hook (tests/bench/hook.ts) that approves at once is set on the
 * service before the scenarios, so (b) and (c) measure spends that ask it (contract §7).
 *
 * With --pglite, the embedded default is measured too, after all of the above: one more
 * `bun src/main.ts` with no DATABASE_URL, on PGlite in a fresh temporary DATA_DIR (removed at the end,
 * whatever --keep says), seeded the same way, runs (a), (b) and (c) (one instance, whatever
 * --instances says). They are extra rows "… [PGlite]" of the table, and the summary gives PGlite ÷
 * PostgreSQL for each. The service is then stopped and its DATA_DIR opened in this process with the
 * service's own database code (src/platform/db.ts), to count the outcomes and check every invariant on
 * it too; a failure there, or a 5xx or a lost 201 on PGlite, also exits 1.
 *
 * `--startup [--runs <n>]` runs the start-up scenario instead, alone (tests/bench/startup.ts): spawn
 * to the first 200 on /ready on embedded PGlite, fresh and existing DATA_DIR, for `bun src/main.ts`
 * and dist/wallet; the median of --runs (3) starts each. It needs no PostgreSQL.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import type { Queryable } from "../../src/platform/db.ts";
import { type Check, checkInvariants } from "../helpers/invariants.ts";
import {
  type DatabaseCounters,
  databaseCounters,
  type Outcome,
  outcomes,
  serverInfo,
  withClient,
} from "./checks.ts";
import { type CpuShare, startCpuMeter } from "./cpu.ts";
import { startHookReceiver } from "./hook.ts";
import { type LoadRequest, type LoadResult, runLoad } from "./load.ts";
import { findPgbench, type PgbenchResult, runPgbench } from "./pgbench.ts";
import {
  Api,
  BENCH_CATEGORY,
  fundTeamWallet,
  type Seeded,
  scopedKey,
  seed,
  TEAM_CARDS,
  teamSpend,
  USER_WALLETS,
} from "./seed.ts";
import { runStartup, startupReport } from "./startup.ts";
import {
  DEFAULT_SERVER_URL,
  type EmbeddedTarget,
  externalTarget,
  type ServerLog,
  type Service,
  spawnCeiling,
  spawnEmbeddedTarget,
  spawnTarget,
  type Target,
} from "./target.ts";

const USAGE = `usage: bun run bench [-- --duration <seconds>] [--connections <32-64>] [--pgbench] [--instances <1-8>] [--hook] [--categorised-limits] [--pglite] [--keep] [--json]
       bun run bench -- --startup [--runs <n>] [--json]

  --duration      seconds per scenario (default 10)
  --connections   concurrent connections of the load generator, 32 to 64 (default 32)
  --pgbench       also run pgbench -i -s 10 and pgbench -c 16 -T 15 on a scratch database of the server
  --instances     service instances on the one database (default 1); more than one are put behind
                  HAProxy (Debian's haproxy package), round robin, and the load goes through it
  --hook          set an authorization hook on the service, served by this process and approving at
                  once, so the spend scenarios ask it (spawned mode: the service gets
                  WEBHOOK_ALLOW_PRIVATE_TARGETS=true to reach it on 127.0.0.1)
  --categorised-limits  every card also gets three limits on merchant categories (two cap each spend)
  --pglite        then also run (a), (b) and (c) on one more instance with no DATABASE_URL (embedded
                  PGlite) in a fresh temporary DATA_DIR, removed at the end; rows "[PGlite]", the
                  ratios PGlite ÷ PostgreSQL, and the invariants checked on its DATA_DIR too
  --keep          keep the wallet_bench_* database (spawned mode)
  --json          print the summary as JSON too
  --startup       only the start-up scenario: fresh and existing DATA_DIR on embedded PGlite, for
                  bun src/main.ts and dist/wallet (built when missing), to the first 200 on /ready
  --runs          starts per program and DATA_DIR in --startup, 1 to 20 (default 3; the median is reported)

  DATABASE_URL    PostgreSQL server (default ${DEFAULT_SERVER_URL}); with BENCH_URL, the service's database
  BENCH_URL, BENCH_ADMIN_KEY   benchmark this running service instead of starting one
  DB_POOL_MAX     passed to the service it starts`;

interface Options {
  durationSeconds: number;
  connections: number;
  pgbench: boolean;
  keep: boolean;
  json: boolean;
  startup: boolean;
  runs: number;
  instances: number;
  hook: boolean;
  categorisedLimits: boolean;
  pglite: boolean;
}

function parseOptions(argv: string[]): Options {
  try {
    return readOptions(argv);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv.filter((argument) => argument !== "--"),
    options: {
      duration: { type: "string", default: "10" },
      connections: { type: "string", default: "32" },
      pgbench: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      startup: { type: "boolean", default: false },
      runs: { type: "string", default: "3" },
      instances: { type: "string", default: "1" },
      hook: { type: "boolean", default: false },
      "categorised-limits": { type: "boolean", default: false },
      pglite: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const durationSeconds = Number(values.duration);
  const connections = Number(values.connections);
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > 600) {
    fail(`--duration must be a whole number of seconds from 1 to 600; got ${values.duration}`);
  }
  if (!Number.isInteger(connections) || connections < 32 || connections > 64) {
    fail(`--connections must be from 32 to 64; got ${values.connections}`);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
    fail(`--runs must be a whole number from 1 to 20; got ${values.runs}`);
  }
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1 || instances > 8) {
    fail(`--instances must be a whole number from 1 to 8; got ${values.instances}`);
  }
  return {
    hook: values.hook,
    instances,
    durationSeconds,
    connections,
    pgbench: values.pgbench,
    keep: values.keep,
    json: values.json,
    startup: values.startup,
    runs,
    categorisedLimits: values["categorised-limits"],
    pglite: values.pglite,
  };
}

function fail(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const log = (message: string) => console.error(`bench: ${message}`);

interface ScenarioReport {
  name: string;
  load: LoadResult;
  cpu: CpuShare;
  /** Authorizations the scenario stored, by outcome (not for reads). */
  outcomes?: Outcome[];
  stored?: number;
}

interface LoadCheck {
  name: string;
  ok: boolean;
  detail: string;
}

async function scenario(
  service: Service,
  options: Options,
  name: string,
  next: (index: number) => LoadRequest,
  apiKey = service.adminKey,
): Promise<ScenarioReport> {
  log(`${name}: ${options.durationSeconds}s at ${options.connections} connections`);
  const meter = await startCpuMeter({
    serviceSeconds: () => service.cpuSeconds(),
    backendPids: () => service.backendPids(),
  });
  const load = await runLoad({
    baseUrl: service.baseUrl,
    apiKey,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    next,
  });
  const cpu = await meter();
  log(
    `${name}: ${load.requestsPerSecond} req/s, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms, ` +
      `non-2xx ${load.non2xx}, errors ${load.errors}`,
  );
  return { name, load, cpu };
}

/** A spend scenario's report and what tells its authorizations apart, to count them once stored. */
interface SpendRun {
  report: ScenarioReport;
  cardIds: string[];
  merchant: string;
}

/** The report of `run` with the authorizations it stored, by outcome, as `db` has them. */
async function withOutcomes(db: Queryable, run: SpendRun): Promise<ScenarioReport> {
  const found = await outcomes(db, run.cardIds, run.merchant);
  return { ...run.report, outcomes: found, stored: found.reduce((sum, outcome) => sum + outcome.count, 0) };
}

/** Waits for requests still in the server when the load generator stopped, then counts outcomes. */
async function settledOutcomes(target: Target, run: SpendRun): Promise<ScenarioReport> {
  await Bun.sleep(1000);
  return withClient(target.databaseUrl, (client) => withOutcomes(client, run));
}

/** The three scenarios measured on both databases, by their names in the table. */
const READS = "(a) GET /v1/wallets/{id}";
const SPENDS = `(b) captured auths, ${USER_WALLETS} wallets`;
const TEAM_SPENDS = `(c) auths, 1 team wallet × ${TEAM_CARDS} cards`;
/** What the rows of the PGlite run end with. */
const PGLITE = " [PGlite]";

/** How a report is named on the lines below the table: "(b)", or "(b) [PGlite]". */
const shortName = (name: string) => `${name.slice(0, 3)}${name.endsWith(PGLITE) ? PGLITE : ""}`;

/** The requests of the scenarios, over what `seed` made. */
interface Requests {
  /** (a): rotating over every seeded wallet. */
  read(index: number): LoadRequest;
  /** (b): captured spends rotating over the user cards, all under `merchant`. */
  spend(merchant: string): (index: number) => LoadRequest;
  /** (c): spends and holds rotating over the team wallet's cards (see `teamSpend`). */
  teamSpend(merchant: string): (index: number) => LoadRequest;
}

function requestsOver(seeded: Seeded): Requests {
  const wallets = seeded.allWalletIds;
  const userCards = seeded.userCardIds;
  const teamCards = seeded.teamCardIds;
  const merchantOf = (name: string) => ({ name, category: BENCH_CATEGORY });
  return {
    read: (index) => ({ method: "GET", path: `/v1/wallets/${wallets[index % wallets.length]}` }),
    spend: (merchant) => (index) => ({
      method: "POST",
      path: `/v1/cards/${userCards[index % userCards.length]}/authorizations`,
      body: { amount: 100 + ((index * 37) % 900), merchant: merchantOf(merchant), capture: true },
    }),
    teamSpend: (merchant) => (index) => {
      const spend = teamSpend(index);
      return {
        method: "POST",
        path: `/v1/cards/${teamCards[index % teamCards.length]}/authorizations`,
        body: { amount: spend.amount, merchant: merchantOf(merchant), capture: spend.capture },
      };
    },
  };
}

interface Prepared {
  api: Api;
  runId: string;
  seeded: Seeded;
  seedSeconds: string;
  requests: Requests;
  /** Logs a line of this run's progress. */
  say(message: string): void;
}

/** Seeds the service through its API and, with --hook, sets the authorization hook on it. */
async function prepare(
  service: Service,
  options: Options,
  hook: { url: string } | undefined,
  say: (message: string) => void,
): Promise<Prepared> {
  const api = new Api(service.baseUrl, service.adminKey);
  const runId = crypto.randomUUID().slice(0, 8);
  const seedStart = performance.now();
  const seeded: Seeded = await seed(api, runId, say, options.categorisedLimits);
  const seedSeconds = ((performance.now() - seedStart) / 1000).toFixed(1);
  say(
    `seeded ${seeded.allWalletIds.length} wallets and ${USER_WALLETS + TEAM_CARDS} cards in ${seedSeconds}s`,
  );
  if (hook !== undefined) {
    await api.call("PUT", "/v1/authorization-hook", { url: hook.url, onTimeout: "decline" });
    say(`authorization hook set: ${hook.url}, approving at once`);
  }
  return { api, runId, seeded, seedSeconds, requests: requestsOver(seeded), say };
}

/**
 * A path warmed right before it is measured, as in a service that has been running: the first
 * seconds of a new process's spends (its JIT, each pooled connection preparing the statements) would
 * otherwise fall into (b) alone, and so would the first spends after the 30 s of reads before them
 * (docs/money.md, "Benchmark"). The warm-up's spends, under a merchant of their own, stay in the
 * database and in the invariants, but in no scenario's counts.
 */
async function warmUp(service: Service, options: Options, prepared: Prepared, path: "reads" | "spends") {
  prepared.say(`warm-up: 2s of ${path} (not reported)`);
  await runLoad({
    baseUrl: service.baseUrl,
    apiKey: service.adminKey,
    connections: options.connections,
    durationSeconds: 2,
    next:
      path === "reads" ? prepared.requests.read : prepared.requests.spend(`bench-warm-up-${prepared.runId}`),
  });
}

/** (b), or (b') with another key: captured spends under a merchant name of their own. */
async function spendScenario(
  service: Service,
  options: Options,
  prepared: Prepared,
  name: string,
  merchant: string,
  apiKey = service.adminKey,
): Promise<SpendRun> {
  const report = await scenario(service, options, name, prepared.requests.spend(merchant), apiKey);
  return { report, cardIds: prepared.seeded.userCardIds, merchant };
}

/** (c): funds the team wallet from the throughput of (b) (see `fundTeamWallet`), then spends on it. */
async function teamScenario(
  service: Service,
  options: Options,
  prepared: Prepared,
  spendsPerSecond: number,
  suffix: string,
): Promise<{ run: SpendRun; funding: { balance: number; dailyLimit: number } }> {
  const { api, seeded, runId } = prepared;
  const funding = await fundTeamWallet(
    api,
    seeded.teamWalletId,
    spendsPerSecond / 2,
    options.durationSeconds,
  );
  prepared.say(`team wallet funded with ${funding.balance}, daily and monthly limit ${funding.dailyLimit}`);
  const merchant = `bench-c-${runId}`;
  const report = await scenario(
    service,
    options,
    `${TEAM_SPENDS}${suffix}`,
    prepared.requests.teamSpend(merchant),
  );
  return { run: { report, cardIds: seeded.teamCardIds, merchant }, funding };
}

/** What --pglite measured and found. */
interface PgliteRun {
  /** (a), (b) and (c), named with PGLITE. */
  reports: ScenarioReport[];
  /** The invariants over the DATA_DIR, opened after the service stopped. */
  invariants: Check[];
  /** The PostgreSQL version inside PGlite. */
  version: string;
  seedSeconds: string;
  funding: { balance: number; dailyLimit: number };
  /** Whether the service still ran when the load was over. */
  survived: boolean;
  serverLog: ServerLog;
}

/** (a), (b) and (c) on `service` (embedded PGlite), then the outcomes and invariants on its DATA_DIR. */
async function benchPglite(
  service: EmbeddedTarget,
  options: Options,
  hook: { url: string } | undefined,
): Promise<PgliteRun> {
  const prepared = await prepare(service, options, hook, (message) => log(`PGlite: ${message}`));
  await warmUp(service, options, prepared, "reads");
  const a = await scenario(service, options, `${READS}${PGLITE}`, prepared.requests.read);
  await warmUp(service, options, prepared, "spends");
  const b = await spendScenario(
    service,
    options,
    prepared,
    `${SPENDS}${PGLITE}`,
    `bench-b-${prepared.runId}`,
  );
  const c = await teamScenario(service, options, prepared, b.report.load.requestsPerSecond, PGLITE);
  const survived = service.alive();
  prepared.say(
    `stopping the service, then counting outcomes and checking the invariants in ${service.dataDir}`,
  );
  return service.openData(async (db) => ({
    reports: [a, await withOutcomes(db, b), await withOutcomes(db, c.run)],
    invariants: await checkInvariants(db),
    version: (await serverInfo(db)).version,
    seedSeconds: prepared.seedSeconds,
    funding: c.funding,
    survived,
    serverLog: service.serverLog(),
  }));
}

interface Ratio {
  scenario: string;
  postgresRequestsPerSecond: number;
  pgliteRequestsPerSecond: number;
  /** PGlite ÷ PostgreSQL, of req/s and of the p50 latency. */
  requestsPerSecond: number;
  p50: number;
}

/** PGlite ÷ PostgreSQL for each scenario that ran on both. */
function pgliteRatios(postgres: ScenarioReport[], pglite: ScenarioReport[]): Ratio[] {
  return pglite.flatMap((embedded) => {
    const name = embedded.name.slice(0, -PGLITE.length);
    const server = postgres.find((report) => report.name === name);
    if (server === undefined) return [];
    const ratio = (value: number, of: number) => Math.round((value / of) * 100) / 100;
    return [
      {
        scenario: name,
        postgresRequestsPerSecond: server.load.requestsPerSecond,
        pgliteRequestsPerSecond: embedded.load.requestsPerSecond,
        requestsPerSecond: ratio(embedded.load.requestsPerSecond, server.load.requestsPerSecond),
        p50: ratio(embedded.load.latencyMs.p50, server.load.latencyMs.p50),
      },
    ];
  });
}

function loadChecks(reports: ScenarioReport[]): LoadCheck[] {
  const checks: LoadCheck[] = [];
  for (const report of reports) {
    const { load } = report;
    const fiveHundreds = Object.entries(load.statusCounts)
      .filter(([code]) => code.startsWith("5"))
      .reduce((sum, [, count]) => sum + count, 0);
    checks.push({
      name: `${report.name}: no 5xx, no connection errors or timeouts`,
      ok: fiveHundreds === 0 && load.errors === 0 && load.timeouts === 0,
      detail: `5xx ${fiveHundreds}, errors ${load.errors}, timeouts ${load.timeouts}`,
    });
    if (report.stored !== undefined) {
      const created = load.statusCounts["201"] ?? 0;
      checks.push({
        name: `${report.name}: every 201 is a stored authorization`,
        ok: report.stored >= created,
        detail: `201 responses ${created}, authorizations stored ${report.stored}`,
      });
    }
  }
  return checks;
}

const pad = (value: string | number, width: number) => String(value).padStart(width);

/** The change in throughput of `scoped` against `admin`, signed, e.g. "-1.8%". */
function percentChange(scoped: ScenarioReport, admin: ScenarioReport): string {
  const change = (scoped.load.requestsPerSecond / admin.load.requestsPerSecond - 1) * 100;
  return `${change >= 0 ? "+" : ""}${change.toFixed(1)}%`;
}

function outcomeText(found: Outcome[] | undefined): string {
  if (found === undefined) return "";
  return found.map((outcome) => `${outcome.declineReason ?? outcome.status} ${outcome.count}`).join(", ");
}

/** The goals the spend and read paths are held to (issue 13), each with what this run measured. */
function goalLines(reports: ScenarioReport[], pgbench: PgbenchResult): string[] {
  const find = (prefix: string) =>
    reports.find((report) => report.name.startsWith(prefix) && !report.name.endsWith(PGLITE));
  const [a, r, b, c] = ["(a) ", "(r) ", "(b) ", "(c) "].map(find);
  if (a === undefined || r === undefined || b === undefined || c === undefined) return [];
  const rate = (report: ScenarioReport) => report.load.requestsPerSecond;
  const goal = (text: string, measured: string, met: boolean) =>
    `  ${met ? "met    " : "not met"}  ${text.padEnd(52)} ${measured}`;
  const readRatio = rate(a) / rate(r);
  const spreadRatio = rate(b) / pgbench.tps;
  const hotRatio = rate(c) / rate(b);
  const worstP99 = Math.max(b.load.latencyMs.p99, c.load.latencyMs.p99);
  const non2xx = b.load.non2xx + c.load.non2xx;
  return [
    "Goals:",
    goal("(a) reads ≥ 0.85 of the raw ceiling (r)", readRatio.toFixed(2), readRatio >= 0.85),
    goal("(b) spread spends ≥ 0.80 of pgbench TPC-B tps", spreadRatio.toFixed(2), spreadRatio >= 0.8),
    goal("(c) the hot wallet ≥ 0.90 of (b)", hotRatio.toFixed(2), hotRatio >= 0.9),
    goal("p99 of a spend ≤ 30 ms in (b) and (c)", `${worstP99} ms`, worstP99 <= 30),
    goal("no non-2xx in (b) and (c)", String(non2xx), non2xx === 0),
  ];
}

function printSummary(
  target: Target,
  options: Options,
  environment: Record<string, string | number>,
  reports: ScenarioReport[],
  pgbench: PgbenchResult | string | undefined,
  checks: Check[],
  load: LoadCheck[],
  counters: DatabaseCounters,
  notes: string[],
  pglite: PgliteRun | undefined,
): void {
  const out: string[] = [];
  out.push("");
  out.push(
    `Benchmark (${target.mode} service, ${options.connections} connections, ${options.durationSeconds}s per scenario)`,
  );
  out.push(
    Object.entries(environment)
      .map(([key, value]) => `${key}: ${value}`)
      .join(" | "),
  );
  out.push("");
  out.push(
    `${"scenario".padEnd(44)}${pad("req/s", 9)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("requests", 10)}${pad("non-2xx", 9)}${pad("errors", 8)}  CPU % svc/pg/gen/all`,
  );
  const percent = (value: number | null) => (value === null ? "-" : String(value));
  for (const { name, load, cpu } of reports) {
    out.push(
      `${name.padEnd(44)}${pad(load.requestsPerSecond, 9)}${pad(load.latencyMs.p50, 9)}${pad(load.latencyMs.p99, 9)}${pad(load.requests, 10)}${pad(load.non2xx, 9)}${pad(load.errors, 8)}  ${percent(cpu.service)}/${percent(cpu.postgres)}/${cpu.loadGenerator}/${percent(cpu.machine)}`,
    );
  }
  out.push(
    `  (CPU %: of one core, for the service / its PostgreSQL backends / the load generator / the whole machine of ${cpus().length} cores)`,
  );
  for (const note of notes) out.push(note);
  for (const report of reports) {
    if (report.outcomes !== undefined)
      out.push(`  ${shortName(report.name)} outcomes: ${outcomeText(report.outcomes)}`);
  }
  if (typeof pgbench === "string") out.push(`pgbench: ${pgbench}`);
  else if (pgbench !== undefined) {
    out.push(
      `${"pgbench TPC-B -c 16 -T 15 (scale 10), same server".padEnd(44)}${pad(Math.round(pgbench.tps), 9)} tps, latency average ${pgbench.latencyAverageMs ?? "?"} ms`,
    );
    for (const report of reports.filter((r) => r.outcomes !== undefined)) {
      const ratio = report.load.requestsPerSecond / pgbench.tps;
      out.push(`  ${shortName(report.name)} authorizations/s ÷ pgbench tps = ${ratio.toFixed(2)}`);
    }
    out.push(...goalLines(reports, pgbench));
  }
  out.push(
    `Service database during the load (pg_stat_database, approximate): ${counters.commits} commits, ` +
      `${counters.rollbacks} rollbacks, ${counters.deadlocks} deadlocks`,
  );
  out.push("");
  const invariantLines = (heading: string, found: Check[]) => {
    out.push(heading);
    for (const check of found) {
      out.push(
        `  ${check.ok ? "PASS" : "FAIL"}  ${check.name} (${check.examined} examined, ${check.violations} violations)`,
      );
      if (!check.ok) for (const sample of check.samples) out.push(`          ${JSON.stringify(sample)}`);
    }
  };
  invariantLines("Invariants (SQL over the whole database):", checks);
  if (pglite !== undefined) {
    invariantLines(
      "Invariants on PGlite (SQL over its DATA_DIR, opened after the service stopped):",
      pglite.invariants,
    );
  }
  out.push("Load:");
  for (const check of load) out.push(`  ${check.ok ? "PASS" : "FAIL"}  ${check.name} (${check.detail})`);
  for (const report of reports) {
    for (const failure of report.load.failures) {
      out.push(
        `  ${shortName(report.name)} ${failure.status} ${failure.method} ${failure.path}: ${failure.body}`,
      );
    }
    for (const message of report.load.errorMessages)
      out.push(`  ${shortName(report.name)} error: ${message}`);
  }
  const logLines = (heading: string, serverLog: ServerLog) => {
    out.push(`${heading}: ${serverLog.total}`);
    for (const line of serverLog.lines.slice(0, 20)) out.push(`  ${line.slice(0, 400)}`);
  };
  if (target.mode === "spawned") logLines("Service warnings/errors logged", target.serverLog());
  if (pglite !== undefined) logLines("PGlite service warnings/errors logged", pglite.serverLog);
  console.log(out.join("\n"));
}

async function mainStartup(options: Options): Promise<number> {
  const startup = await runStartup(options.runs, log);
  console.log(startupReport(startup, cpus().length));
  if (options.json) console.log(JSON.stringify({ startup }, null, 2));
  return 0;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.startup) return mainStartup(options);
  const benchUrl = process.env.BENCH_URL;
  const benchKey = process.env.BENCH_ADMIN_KEY;
  const databaseUrl = process.env.DATABASE_URL;
  // A spawned service inherits this process's environment; the hook is served on 127.0.0.1.
  if (options.hook) process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS = "true";
  let target: Target;
  if (benchUrl !== undefined && benchUrl !== "") {
    if (!benchKey || !databaseUrl)
      fail("BENCH_URL needs BENCH_ADMIN_KEY and DATABASE_URL (the service's database)");
    if (options.instances > 1) fail("--instances starts instances: it does not go with BENCH_URL");
    log(`using the running service at ${benchUrl}`);
    target = await externalTarget(benchUrl, benchKey, databaseUrl);
  } else {
    log(`starting ${options.instances} service instance(s) on a new database`);
    target = await spawnTarget(databaseUrl || DEFAULT_SERVER_URL, options.keep, options.instances);
  }

  const hook = options.hook ? startHookReceiver() : undefined;
  let embedded: EmbeddedTarget | undefined;
  let stopping = false;
  const stopOnSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    void Promise.allSettled([target.stop(), embedded?.stop()]).finally(() => process.exit(130));
  };
  process.on("SIGINT", () => stopOnSignal("SIGINT"));
  process.on("SIGTERM", () => stopOnSignal("SIGTERM"));

  try {
    const prepared = await prepare(target, options, hook, log);
    const { api, runId, requests, seedSeconds } = prepared;
    const countersBefore = await withClient(target.databaseUrl, databaseCounters);
    await warmUp(target, options, prepared, "reads");

    const readKey = await scopedKey(api, "bench read", ["read"]);
    const authorizeKey = await scopedKey(api, "bench authorize", ["authorize"]);
    const reports: ScenarioReport[] = [];
    const a = await scenario(target, options, READS, requests.read);
    const aScoped = await scenario(
      target,
      options,
      "(a') GET /v1/wallets/{id}, read-scoped key",
      requests.read,
      readKey,
    );
    reports.push(a, aScoped);
    const ceiling = await spawnCeiling(target.databaseUrl);
    const r = await scenario(
      { ...target, baseUrl: ceiling.baseUrl, cpuSeconds: ceiling.cpuSeconds },
      options,
      "(r) ceiling: raw Bun.serve + pg, same reads",
      requests.read,
    ).finally(() => ceiling.stop());
    reports.push(r);

    await warmUp(target, options, prepared, "spends");
    const b = await spendScenario(target, options, prepared, SPENDS, `bench-b-${runId}`);
    reports.push(await settledOutcomes(target, b));
    const bScoped = await spendScenario(
      target,
      options,
      prepared,
      "(b') the same, authorize-scoped key",
      `bench-b-scoped-${runId}`,
      authorizeKey,
    );
    reports.push(await settledOutcomes(target, bScoped));
    const notes = [
      `scoped key vs admin key: read ${percentChange(aScoped, a)}, spend ${percentChange(bScoped.report, b.report)} req/s`,
      `(a) ÷ (r), the read path against the raw ceiling: ${(a.load.requestsPerSecond / r.load.requestsPerSecond).toFixed(2)}`,
    ];

    const c = await teamScenario(target, options, prepared, b.report.load.requestsPerSecond, "");
    const { funding } = c;
    reports.push(await settledOutcomes(target, c.run));

    log("checking the invariants");
    const { checks, info } = await withClient(target.databaseUrl, async (client) => {
      // One snapshot, so every check sees the same state.
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const result = { checks: await checkInvariants(client), info: await serverInfo(client) };
      await client.query("COMMIT");
      return result;
    });
    const serviceSurvived = target.alive();

    let pgbench: PgbenchResult | string | undefined;
    if (options.pgbench) {
      const binary = findPgbench();
      if (binary === undefined) {
        pgbench = "skipped: pgbench is not installed (apt-get install postgresql-client)";
        log(pgbench);
      } else {
        pgbench = await runPgbench(binary, target.serverUrl, log);
      }
    }

    const countersAfter = await withClient(target.databaseUrl, databaseCounters);
    const counters: DatabaseCounters = {
      commits: countersAfter.commits - countersBefore.commits,
      rollbacks: countersAfter.rollbacks - countersBefore.rollbacks,
      deadlocks: countersAfter.deadlocks - countersBefore.deadlocks,
    };

    let pglite: PgliteRun | undefined;
    let ratios: Ratio[] = [];
    if (options.pglite) {
      log("starting one service instance on embedded PGlite in a new DATA_DIR (no DATABASE_URL)");
      embedded = await spawnEmbeddedTarget();
      pglite = await benchPglite(embedded, options, hook);
      await embedded.stop();
      ratios = pgliteRatios(reports, pglite.reports);
      reports.push(...pglite.reports);
      notes.push(
        `PGlite ÷ PostgreSQL: ${ratios.map((ratio) => `${ratio.scenario.slice(0, 3)} req/s ${ratio.requestsPerSecond.toFixed(2)}, p50 latency ${ratio.p50.toFixed(2)}`).join("; ")}`,
        `  ([PGlite] rows: one instance, its database inside the service process: svc CPU includes it, pg is -)`,
      );
    }

    const load = loadChecks(reports);
    if (!serviceSurvived) load.push({ name: "service still running", ok: false, detail: "it exited" });
    if (pglite !== undefined && !pglite.survived)
      load.push({ name: "PGlite service still running", ok: false, detail: "it exited" });
    const environment: Record<string, string | number> = {
      cpus: cpus().length,
      bun: Bun.version,
      postgres: info.version,
      instances: target.instances,
      service_pool: target.mode === "spawned" ? (target.poolMax ?? "20 (default)") : "?",
      seed_s: seedSeconds,
      team_wallet: `balance ${funding.balance}, daily=monthly limit ${funding.dailyLimit}`,
    };
    if (pglite !== undefined) {
      environment.pglite = `PostgreSQL ${pglite.version} embedded, 1 instance`;
      environment.pglite_seed_s = pglite.seedSeconds;
      environment.pglite_team_wallet = `balance ${pglite.funding.balance}, daily=monthly limit ${pglite.funding.dailyLimit}`;
    }
    if (hook !== undefined) environment.hook = `approves at once; answered ${hook.calls()} call(s)`;
    printSummary(target, options, environment, reports, pgbench, checks, load, counters, notes, pglite);
    const ok =
      checks.every((check) => check.ok) &&
      (pglite?.invariants ?? []).every((check) => check.ok) &&
      load.every((check) => check.ok);
    if (options.json) {
      console.log(
        JSON.stringify(
          {
            mode: target.mode,
            connections: options.connections,
            durationSeconds: options.durationSeconds,
            environment,
            scenarios: reports,
            notes,
            pgbench: pgbench ?? null,
            invariants: checks,
            load,
            databaseCounters: counters,
            serverLog: target.serverLog(),
            pglite:
              pglite === undefined
                ? null
                : { ratios, invariants: pglite.invariants, serverLog: pglite.serverLog },
            ok,
          },
          null,
          2,
        ),
      );
    }
    console.log(ok ? "\nRESULT: PASS" : "\nRESULT: FAIL");
    return ok ? 0 : 1;
  } finally {
    if (!stopping) {
      stopping = true;
      await target.stop();
      await embedded?.stop();
    }
    await hook?.stop();
  }
}

process.exit(await main());
