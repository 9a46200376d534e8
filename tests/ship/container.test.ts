/**
 * The container image, built from the project's Dockerfile and run for real with Podman: it starts as
 * a non-root user and its HEALTHCHECK passes; on embedded PGlite its data (money, generated keys) is on
 * the volume and survives a new container; on PostgreSQL it serves with DATABASE_URL, and SIGTERM
 * drains a request in flight and exits 0; and the image is its runtime base plus the binary, with no
 * sources, tests, node_modules or secrets. Prints the image size and the start-to-ready times.
 *
 * No registry is reachable here, so the base images are made from Debian's packages
 * (tests/ship/container-bases.ts) and passed as build arguments; the Dockerfile is used as it is.
 * It runs in the PostgreSQL pass of CI only (it needs DATABASE_URL's server, and it is slow), as root,
 * with podman, runc and mmdebstrap installed (.ci/run installs them).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import packageLock from "../../package-lock.json" with { type: "json" };
import { freePort, ROOT, run } from "../helpers/process.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";
import { CACHE_DIR, prepareBases } from "./container-bases.ts";
import { call, expectCall, idOf, mib } from "./support.ts";

const serverUrl = process.env.DATABASE_URL;
/**
 * runc, with cgroupfs: crun refuses this kind of machine's hybrid cgroups. Podman's own choice would
 * be crun when both are installed.
 */
const PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"];
const RUN_ID = crypto.randomUUID().slice(0, 8);
const PREFIX = "localhost/wallet-container-test";
const IMAGE = `${PREFIX}/wallet:${RUN_ID}`;
/** The uid and gid of distroless's `nonroot`, which the Dockerfile runs as. */
const NONROOT = "65532";
const SLOW = 300_000;
/** Making the bases from nothing (mmdebstrap, a few hundred MB from Debian's mirror) and building. */
const BUILD_TIMEOUT = 900_000;

/** Why this file cannot run here, or undefined when it can. */
function unavailableBecause(): string | undefined {
  if (serverUrl === undefined) {
    return "DATABASE_URL is unset: the container test runs in the PostgreSQL pass only";
  }
  if (process.platform !== "linux" || process.getuid?.() !== 0) return "it runs Podman as root, on Linux";
  for (const tool of ["podman", "runc", "mmdebstrap"]) {
    if (Bun.which(tool) === null) return `${tool} is not installed (apt-get install podman runc mmdebstrap)`;
  }
  return undefined;
}
const skipReason = unavailableBecause();
if (skipReason !== undefined) console.warn(`[container] skipped: ${skipReason}`);

const say = (line: string) => console.log(`[container] ${line}`);

async function podman(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<string> {
  const result = await run([...PODMAN, ...args], {
    timeoutMs: options.timeoutMs ?? 120_000,
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  if (result.exitCode !== 0) {
    throw new Error(
      `podman ${args.slice(0, 2).join(" ")} failed (${result.exitCode}): ${result.stderr.slice(-3000)}`,
    );
  }
  return result.stdout.trim();
}

/**
 * This process's own limits, for `podman run`: runc cannot raise a limit without CAP_SYS_RESOURCE,
 * and Podman 4.3 asks for more than it has (nofile 1048576; nproc above the 32768 it lowers itself
 * to) even with `--ulimit host`.
 */
async function ulimits(): Promise<string[]> {
  const limits = await Bun.file("/proc/self/limits").text();
  const hard = (label: string, cap: number) => {
    const value = new RegExp(`^${label}\\s+\\S+\\s+(\\S+)`, "m").exec(limits)?.[1];
    return value === undefined || value === "unlimited" ? cap : Math.min(Number(value), cap);
  };
  const nofile = hard("Max open files", 1_048_576);
  const nproc = hard("Max processes", 32_768);
  return ["--ulimit", `nofile=${nofile}:${nofile}`, "--ulimit", `nproc=${nproc}:${nproc}`];
}

const containers = new Set<string>();
const volumes = new Set<string>();
const images = new Set<string>();
let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;

interface Container {
  name: string;
  baseUrl: string;
  /** From `podman run` to the first 200 on GET /ready. */
  startMs: number;
}

/** `podman run -d` of the image on the host's network, waiting for GET /ready to answer 200. */
async function startContainer(
  label: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Container> {
  const name = `wallet-container-test-${RUN_ID}-${label}`;
  const port = freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  containers.add(name);
  const started = performance.now();
  // Secrets are named with -e and taken from podman's environment, never written on its command line.
  const hostEnv = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  await podman(
    [
      "run",
      "--detach",
      "--name",
      name,
      "--network",
      "host",
      ...(await ulimits()),
      "--env",
      `PORT=${port}`,
      ...Object.keys(env).flatMap((key) => ["--env", key]),
      ...args,
      IMAGE,
    ],
    { env: { ...hostEnv, ...env } },
  );
  const deadline = Date.now() + 120_000;
  let lastCheck = Date.now();
  while (Date.now() < deadline) {
    const ready = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
      () => undefined,
    );
    await ready?.arrayBuffer();
    if (ready?.status === 200) return { name, baseUrl, startMs: performance.now() - started };
    if (Date.now() - lastCheck > 2_000) {
      lastCheck = Date.now();
      if ((await state(name, "{{.State.Running}}")) !== "true") {
        throw new Error(`container ${label} stopped before it was ready: ${await logs(name)}`);
      }
    }
    await Bun.sleep(50);
  }
  throw new Error(`container ${label} was not ready within 120 s: ${await logs(name)}`);
}

const state = (name: string, format: string) => podman(["inspect", "--format", format, name]);

async function logs(name: string): Promise<string> {
  const result = await run([...PODMAN, "logs", name]);
  return `${result.stdout}${result.stderr}`.slice(-4000);
}

/** The real, effective, saved and file-system uid and gid of the container's main process. */
async function processIds(name: string): Promise<{ uids: string[]; gids: string[] }> {
  const pid = await state(name, "{{.State.Pid}}");
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const ids = (field: string) =>
    /^\S+:\s+(.*)$/m
      .exec(status.split("\n").find((line) => line.startsWith(field)) ?? "")?.[1]
      ?.split(/\s+/) ?? [];
  return { uids: ids("Uid:"), gids: ids("Gid:") };
}

/** Every path under `root`, relative to it; symbolic links are listed, never followed. */
async function walk(root: string, relative = ""): Promise<string[]> {
  const entries = await readdir(join(root, relative), { withFileTypes: true });
  const paths: string[] = [];
  for (const entry of entries) {
    const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
    paths.push(path);
    if (entry.isDirectory()) paths.push(...(await walk(root, path)));
  }
  return paths;
}

/** Every path in an image, relative to its root. */
async function pathsIn(image: string): Promise<Set<string>> {
  const root = await podman(["image", "mount", image]);
  try {
    return new Set(await walk(root));
  } finally {
    await podman(["image", "unmount", image]);
  }
}

describe.skipIf(skipReason !== undefined)("the container image, built and run with Podman", () => {
  let runtimeBase = "";

  beforeAll(async () => {
    const basesStarted = performance.now();
    const bases = await prepareBases(PREFIX);
    images.add(bases.build.image);
    images.add(bases.runtime.image);
    runtimeBase = bases.runtime.image;
    const made = [bases.build, bases.runtime].filter((base) => base.made).length;
    say(
      `bases ready in ${((performance.now() - basesStarted) / 1000).toFixed(1)} s ` +
        `(${made === 0 ? "both from the cache" : `${made} made with mmdebstrap`} in ${CACHE_DIR})`,
    );
    const buildStarted = performance.now();
    images.add(IMAGE);
    await podman(
      [
        "build",
        // Docker's format: OCI's has no HEALTHCHECK.
        "--format",
        "docker",
        // For `bun install` from the npm registry; no layer is kept, each run builds from its bases.
        "--network",
        "host",
        "--layers=false",
        "--build-arg",
        `BUN_IMAGE=${bases.build.image}`,
        "--build-arg",
        `RUNTIME_IMAGE=${bases.runtime.image}`,
        "--tag",
        IMAGE,
        "--file",
        join(ROOT, "Dockerfile"),
        ROOT,
      ],
      { timeoutMs: BUILD_TIMEOUT },
    );
    say(`image built in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s`);
  }, BUILD_TIMEOUT);

  afterAll(async () => {
    for (const name of containers) await run([...PODMAN, "rm", "--force", "--volumes", "--time", "0", name]);
    for (const volume of volumes) await run([...PODMAN, "volume", "rm", "--force", volume]);
    for (const image of images) await run([...PODMAN, "rmi", "--force", image]);
    await scratch?.drop();
  }, SLOW);

  test(
    "the image is its runtime base plus the binary and an empty /data: no sources, tests, node_modules or secrets",
    async () => {
      const size = Number(await podman(["image", "inspect", "--format", "{{.Size}}", IMAGE]));
      const baseSize = Number(await podman(["image", "inspect", "--format", "{{.Size}}", runtimeBase]));
      say(`image size ${mib(size)} (its runtime base ${mib(baseSize)}, the rest is /app/wallet)`);

      const base = await pathsIn(runtimeBase);
      const added = [...(await pathsIn(IMAGE))].filter((path) => !base.has(path)).sort();
      expect(added).toEqual(["app", "app/wallet", "data"]);

      const config = JSON.parse(
        await podman(["image", "inspect", "--format", "{{json .Config}}", IMAGE]),
      ) as {
        User?: string;
        Env?: string[];
      };
      expect(config.User).toBe(`${NONROOT}:${NONROOT}`);
      // The environment is the base's PATH and the Dockerfile's two settings: no key or URL is baked in.
      expect((config.Env ?? []).map((entry) => entry.split("=")[0]).sort()).toEqual([
        "DATA_DIR",
        "PATH",
        "PORT",
      ]);
    },
    SLOW,
  );

  test(
    "embedded: runs as uid 65532, healthy; a top-up and the generated keys outlive the container on the volume; SIGTERM exits 0",
    async () => {
      const volume = `wallet-container-test-${RUN_ID}-data`;
      volumes.add(volume);
      await podman(["volume", "create", volume]);
      const first = await startContainer("embedded", ["--volume", `${volume}:/data`]);
      say(`start to ready, embedded, fresh volume: ${Math.round(first.startMs)} ms`);

      const ids = await processIds(first.name);
      expect(ids.uids).toEqual([NONROOT, NONROOT, NONROOT, NONROOT]);
      expect(ids.gids).toEqual([NONROOT, NONROOT, NONROOT, NONROOT]);
      const health = await run([...PODMAN, "healthcheck", "run", first.name]);
      expect(health.exitCode).toBe(0);

      // The operator's way to the generated admin key: the file on the volume.
      const mountpoint = await podman(["volume", "inspect", "--format", "{{.Mountpoint}}", volume]);
      const key = (await Bun.file(join(mountpoint, "admin-api-key")).text()).trim();
      const team = idOf(
        await expectCall(201, first.baseUrl, key, "POST", "/v1/teams", { name: "Container team" }),
      );
      const wallet = idOf(
        await expectCall(201, first.baseUrl, key, "POST", "/v1/wallets", { teamId: team, name: "Container" }),
      );
      const card = idOf(
        await expectCall(201, first.baseUrl, key, "POST", "/v1/cards", {
          walletId: wallet,
          dailyLimit: 100_000,
          monthlyLimit: 500_000,
        }),
      );
      await expectCall(201, first.baseUrl, key, "POST", `/v1/wallets/${wallet}/topups`, { amount: 50_000 });

      await podman(["stop", "--time", "30", first.name], { timeoutMs: 60_000 });
      expect(await state(first.name, "{{.State.ExitCode}}")).toBe("0");
      expect(await logs(first.name)).toContain('"msg":"stopped"');
      await podman(["rm", first.name]);
      containers.delete(first.name);

      // A new container on the same volume: same admin key, same card key (it starts only if the
      // stored cards verify against it), same money.
      const second = await startContainer("embedded-again", ["--volume", `${volume}:/data`]);
      say(`start to ready, embedded, existing volume: ${Math.round(second.startMs)} ms`);
      const after = await expectCall(200, second.baseUrl, key, "GET", `/v1/wallets/${wallet}`);
      expect(after.balance).toBe(50_000);
      expect((await call(second.baseUrl, key, "GET", `/v1/cards/${card}`)).status).toBe(200);
      await podman(["stop", "--time", "30", second.name], { timeoutMs: 60_000 });
      expect(await state(second.name, "{{.State.ExitCode}}")).toBe("0");
    },
    SLOW,
  );

  test(
    "PostgreSQL: serves with DATABASE_URL; SIGTERM drains a top-up in flight, which completes 201, then exits 0",
    async () => {
      if (serverUrl === undefined) throw new Error("DATABASE_URL is unset");
      scratch = await createScratchDatabase(serverUrl);
      const key = "container-test-admin-key-0123456789";
      const service = await startContainer("postgres", [], {
        DATABASE_URL: scratch.url,
        ADMIN_API_KEY: key,
        CARD_ENCRYPTION_KEY: randomCardKey(),
        // The top-up below waits on a row lock for a while.
        DB_QUERY_TIMEOUT: "30000",
      });
      say(`start to ready, PostgreSQL: ${Math.round(service.startMs)} ms`);
      expect(await processIds(service.name)).toEqual({
        uids: [NONROOT, NONROOT, NONROOT, NONROOT],
        gids: [NONROOT, NONROOT, NONROOT, NONROOT],
      });
      expect((await run([...PODMAN, "healthcheck", "run", service.name])).exitCode).toBe(0);

      const team = idOf(
        await expectCall(201, service.baseUrl, key, "POST", "/v1/teams", { name: "Container team" }),
      );
      const wallet = idOf(
        await expectCall(201, service.baseUrl, key, "POST", "/v1/wallets", {
          teamId: team,
          name: "Container",
        }),
      );
      await expectCall(201, service.baseUrl, key, "POST", `/v1/wallets/${wallet}/topups`, { amount: 1_000 });

      const direct = new pg.Client({ connectionString: scratch.url });
      await direct.connect();
      try {
        // The money is in the scratch database, not in an embedded one inside the container.
        const stored = await direct.query<{ count: string }>(
          "SELECT count(*)::text AS count FROM wallets WHERE id = $1",
          [wallet],
        );
        expect(stored.rows[0]?.count).toBe("1");

        await direct.query("BEGIN");
        await direct.query("SELECT id FROM wallets WHERE id = $1 FOR UPDATE", [wallet]);
        const inFlight = call(service.baseUrl, key, "POST", `/v1/wallets/${wallet}/topups`, {
          amount: 2_000,
        });
        const watcher = new pg.Client({ connectionString: scratch.url });
        await watcher.connect();
        try {
          const deadline = Date.now() + 20_000;
          for (;;) {
            const waiting = await watcher.query<{ count: string }>(
              `SELECT count(*)::text AS count FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'wallet-api' AND wait_event_type = 'Lock'`,
            );
            if (waiting.rows[0]?.count === "1") break;
            if (Date.now() > deadline) throw new Error("the top-up never waited on the row lock");
            await Bun.sleep(50);
          }
        } finally {
          await watcher.end();
        }

        await podman(["kill", "--signal", "TERM", service.name]);
        await Bun.sleep(500);
        // Draining: still running for the request in flight, and no longer ready.
        expect(await state(service.name, "{{.State.Running}}")).toBe("true");
        const ready = await fetch(`${service.baseUrl}/ready`).catch(() => undefined);
        expect(ready?.status ?? 0).not.toBe(200);
        await ready?.arrayBuffer();

        await direct.query("COMMIT");
        expect((await inFlight).status).toBe(201);
        expect(await podman(["wait", service.name], { timeoutMs: 60_000 })).toBe("0");
        const balance = await direct.query<{ balance: string }>(
          "SELECT balance::text AS balance FROM wallets WHERE id = $1",
          [wallet],
        );
        expect(balance.rows[0]?.balance).toBe("3000");
      } finally {
        await direct.end();
      }
    },
    SLOW,
  );
});

test("the Dockerfile's default build image is the Bun that package-lock.json pins", async () => {
  const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();
  const bun = packageLock.packages["node_modules/bun"].version;
  expect(/^ARG BUN_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]).toBe(`oven/bun:${bun}`);
});
