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
 * Options: --duration <s> (10), --connections <32-64> (32), --pgbench (also `pgbench -c 16 -T 15`
 * at scale 10 on a scratch database of the same server), --instances <1-8> (1: that many service
 * instances on the one database, behind HAProxy when more than one), --categorised-limits (every
 * card also gets three limits on merchant categories, two of which cap every bench spend, to compare
 * with a run without), --keep, --json, --help.
 *
 * With --hook, a local authorization hook (tests/bench/hook.ts) that approves at once is set on the
 * service before the scenarios, so (b) and (c) measure spends that ask it (contract §7).
 *
 * `--startup [--runs <n>]` runs the start-up scenario instead, alone (tests/bench/startup.ts): spawn
 * to the first 200 on /ready on embedded PGlite, fresh and existing DATA_DIR, for `bun src/main.ts`
 * and dist/wallet; the median of --runs (3) starts each. It needs no PostgreSQL.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { type Check, checkInvariants } from "../helpers/invariants.ts";
import {
  backendPids,
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
import { DEFAULT_SERVER_URL, externalTarget, spawnCeiling, spawnTarget, type Target } from "./target.ts";

const USAGE = `usage: bun run bench [-- --duration <seconds>] [--connections <32-64>] [--pgbench] [--instances <1-8>] [--hook] [--categorised-limits] [--keep] [--json]
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
  target: Target,
  options: Options,
  name: string,
  next: (index: number) => LoadRequest,
  apiKey = target.adminKey,
): Promise<ScenarioReport> {
  log(`${name}: ${options.durationSeconds}s at ${options.connections} connections`);
  const meter = await startCpuMeter({
    serviceSeconds: () => target.cpuSeconds(),
    backendPids: () => withClient(target.databaseUrl, backendPids),
  });
  const load = await runLoad({
    baseUrl: target.baseUrl,
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

/** Waits for requests still in the server when the load generator stopped, then counts outcomes. */
async function withOutcomes(
  target: Target,
  report: ScenarioReport,
  cardIds: string[],
  merchant: string,
): Promise<ScenarioReport> {
  await Bun.sleep(1000);
  const found = await withClient(target.databaseUrl, (client) => outcomes(client, cardIds, merchant));
  return { ...report, outcomes: found, stored: found.reduce((sum, outcome) => sum + outcome.count, 0) };
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
      out.push(`  ${report.name.slice(0, 3)} outcomes: ${outcomeText(report.outcomes)}`);
  }
  if (typeof pgbench === "string") out.push(`pgbench: ${pgbench}`);
  else if (pgbench !== undefined) {
    out.push(
      `${"pgbench TPC-B -c 16 -T 15 (scale 10), same server".padEnd(44)}${pad(Math.round(pgbench.tps), 9)} tps, latency average ${pgbench.latencyAverageMs ?? "?"} ms`,
    );
    for (const report of reports.filter((r) => r.outcomes !== undefined)) {
      const ratio = report.load.requestsPerSecond / pgbench.tps;
      out.push(`  ${report.name.slice(0, 3)} authorizations/s ÷ pgbench tps = ${ratio.toFixed(2)}`);
    }
  }
  out.push(
    `Service database during the load (pg_stat_database, approximate): ${counters.commits} commits, ` +
      `${counters.rollbacks} rollbacks, ${counters.deadlocks} deadlocks`,
  );
  out.push("");
  out.push("Invariants (SQL over the whole database):");
  for (const check of checks) {
    out.push(
      `  ${check.ok ? "PASS" : "FAIL"}  ${check.name} (${check.examined} examined, ${check.violations} violations)`,
    );
    if (!check.ok) for (const sample of check.samples) out.push(`          ${JSON.stringify(sample)}`);
  }
  out.push("Load:");
  for (const check of load) out.push(`  ${check.ok ? "PASS" : "FAIL"}  ${check.name} (${check.detail})`);
  for (const report of reports) {
    for (const failure of report.load.failures) {
      out.push(
        `  ${report.name.slice(0, 3)} ${failure.status} ${failure.method} ${failure.path}: ${failure.body}`,
      );
    }
    for (const message of report.load.errorMessages)
      out.push(`  ${report.name.slice(0, 3)} error: ${message}`);
  }
  const serverLog = target.serverLog();
  if (target.mode === "spawned") {
    out.push(`Service warnings/errors logged: ${serverLog.total}`);
    for (const line of serverLog.lines.slice(0, 20)) out.push(`  ${line.slice(0, 400)}`);
  }
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
  let target: Target;
  if (benchUrl !== undefined && benchUrl !== "") {
    if (!benchKey || !databaseUrl)
      fail("BENCH_URL needs BENCH_ADMIN_KEY and DATABASE_URL (the service's database)");
    if (options.instances > 1) fail("--instances starts instances: it does not go with BENCH_URL");
    log(`using the running service at ${benchUrl}`);
    target = await externalTarget(benchUrl, benchKey, databaseUrl);
  } else {
    log(`starting ${options.instances} service instance(s) on a new database`);
    // The spawned service inherits this process's environment; the hook is served on 127.0.0.1.
    if (options.hook) process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS = "true";
    target = await spawnTarget(databaseUrl || DEFAULT_SERVER_URL, options.keep, options.instances);
  }

  const hook = options.hook ? startHookReceiver() : undefined;
  let stopping = false;
  const stopOnSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    void target.stop().finally(() => process.exit(130));
  };
  process.on("SIGINT", () => stopOnSignal("SIGINT"));
  process.on("SIGTERM", () => stopOnSignal("SIGTERM"));

  try {
    const api = new Api(target.baseUrl, target.adminKey);
    const runId = crypto.randomUUID().slice(0, 8);
    const seedStart = performance.now();
    const seeded: Seeded = await seed(api, runId, log, options.categorisedLimits);
    const seedSeconds = ((performance.now() - seedStart) / 1000).toFixed(1);
    log(
      `seeded ${seeded.allWalletIds.length} wallets and ${USER_WALLETS + TEAM_CARDS} cards in ${seedSeconds}s`,
    );
    if (hook !== undefined) {
      await api.call("PUT", "/v1/authorization-hook", { url: hook.url, onTimeout: "decline" });
      log(`authorization hook set: ${hook.url}, approving at once`);
    }

    const wallets = seeded.allWalletIds;
    const readWallet = (index: number): LoadRequest => ({
      method: "GET",
      path: `/v1/wallets/${wallets[index % wallets.length]}`,
    });
    const countersBefore = await withClient(target.databaseUrl, databaseCounters);
    log("warm-up: 2s of reads (not reported)");
    await runLoad({
      baseUrl: target.baseUrl,
      apiKey: target.adminKey,
      connections: options.connections,
      durationSeconds: 2,
      next: readWallet,
    });

    const readKey = await scopedKey(api, "bench read", ["read"]);
    const authorizeKey = await scopedKey(api, "bench authorize", ["authorize"]);
    const reports: ScenarioReport[] = [];
    const a = await scenario(target, options, "(a) GET /v1/wallets/{id}", readWallet);
    const aScoped = await scenario(
      target,
      options,
      "(a') GET /v1/wallets/{id}, read-scoped key",
      readWallet,
      readKey,
    );
    reports.push(a, aScoped);
    const ceiling = await spawnCeiling(target.databaseUrl);
    const r = await scenario(
      { ...target, baseUrl: ceiling.baseUrl, cpuSeconds: ceiling.cpuSeconds },
      options,
      "(r) ceiling: raw Bun.serve + pg, same reads",
      readWallet,
    ).finally(() => ceiling.stop());
    reports.push(r);

    const userCards = seeded.userCardIds;
    const spend =
      (merchant: string) =>
      (index: number): LoadRequest => ({
        method: "POST",
        path: `/v1/cards/${userCards[index % userCards.length]}/authorizations`,
        body: {
          amount: 100 + ((index * 37) % 900),
          merchant: { name: merchant, category: BENCH_CATEGORY },
          capture: true,
        },
      });
    const merchantB = `bench-b-${runId}`;
    const b = await scenario(
      target,
      options,
      `(b) captured auths, ${USER_WALLETS} wallets`,
      spend(merchantB),
    );
    reports.push(await withOutcomes(target, b, userCards, merchantB));
    const merchantBScoped = `bench-b-scoped-${runId}`;
    const bScoped = await scenario(
      target,
      options,
      "(b') the same, authorize-scoped key",
      spend(merchantBScoped),
      authorizeKey,
    );
    reports.push(await withOutcomes(target, bScoped, userCards, merchantBScoped));
    const notes = [
      `scoped key vs admin key: read ${percentChange(aScoped, a)}, spend ${percentChange(bScoped, b)} req/s`,
      `(a) ÷ (r), the read path against the raw ceiling: ${(a.load.requestsPerSecond / r.load.requestsPerSecond).toFixed(2)}`,
    ];

    const funding = await fundTeamWallet(
      api,
      seeded.teamWalletId,
      b.load.requestsPerSecond / 2,
      options.durationSeconds,
    );
    log(`team wallet funded with ${funding.balance}, daily and monthly limit ${funding.dailyLimit}`);
    const merchantC = `bench-c-${runId}`;
    const teamCards = seeded.teamCardIds;
    const c = await scenario(target, options, `(c) auths, 1 team wallet × ${TEAM_CARDS} cards`, (index) => {
      const spend = teamSpend(index);
      return {
        method: "POST",
        path: `/v1/cards/${teamCards[index % teamCards.length]}/authorizations`,
        body: {
          amount: spend.amount,
          merchant: { name: merchantC, category: BENCH_CATEGORY },
          capture: spend.capture,
        },
      };
    });
    reports.push(await withOutcomes(target, c, teamCards, merchantC));

    log("checking the invariants");
    const { checks, info } = await withClient(target.databaseUrl, async (client) => {
      // One snapshot, so every check sees the same state.
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const result = { checks: await checkInvariants(client), info: await serverInfo(client) };
      await client.query("COMMIT");
      return result;
    });
    const load = loadChecks(reports);
    if (!target.alive()) load.push({ name: "service still running", ok: false, detail: "it exited" });

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
    const environment: Record<string, string | number> = {
      cpus: cpus().length,
      bun: Bun.version,
      postgres: info.version,
      instances: target.instances,
      service_pool: target.mode === "spawned" ? (target.poolMax ?? "20 (default)") : "?",
      seed_s: seedSeconds,
      team_wallet: `balance ${funding.balance}, daily=monthly limit ${funding.dailyLimit}`,
    };
    if (hook !== undefined) environment.hook = `approves at once; answered ${hook.calls()} call(s)`;
    printSummary(target, options, environment, reports, pgbench, checks, load, counters, notes);
    const ok = checks.every((check) => check.ok) && load.every((check) => check.ok);
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
    }
    await hook?.stop();
  }
}

process.exit(await main());
