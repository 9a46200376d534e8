/**
 * The HA cluster's configuration (deploy/cluster, docs/scaling.md), rendered without starting
 * anything: Patroni's timings keep the safety rule, synchronous mode is on, every node and port is
 * distinct, HAProxy routes by Patroni's /primary and /replica and checks the API on /ready with a
 * Host, and `haproxy -c` accepts the file when haproxy is installed. Bringing the cluster up for real
 * is `deploy/cluster/cluster.sh up` (root, minutes on a fresh machine), not part of this suite.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/process.ts";

const SCRIPT = join(ROOT, "deploy/cluster/cluster.sh");
const NODES = ["pg1", "pg2", "pg3"];

interface PatroniConfig {
  name: string;
  restapi: { listen: string };
  postgresql: { listen: string; data_dir: string; parameters: Record<string, unknown> };
  bootstrap: {
    dcs: {
      ttl: number;
      loop_wait: number;
      retry_timeout: number;
      synchronous_mode: boolean;
      synchronous_mode_strict: boolean;
      primary_start_timeout: number;
      maximum_lag_on_failover: number;
      postgresql: { parameters: Record<string, unknown> };
    };
  };
}

let dir: string;
let haproxyCfg: string;
let etcdEnv: string;
const nodes: PatroniConfig[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wallet-cluster-config-"));
  const rendered = Bun.spawnSync(["bash", SCRIPT, "render", dir], { stderr: "pipe" });
  expect(rendered.stderr.toString()).toBe("");
  expect(rendered.exitCode).toBe(0);
  haproxyCfg = await readFile(join(dir, "haproxy.cfg"), "utf8");
  etcdEnv = await readFile(join(dir, "etcd.env"), "utf8");
  for (const node of NODES) {
    nodes.push(Bun.YAML.parse(await readFile(join(dir, node, "patroni.yml"), "utf8")) as PatroniConfig);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The lines of one HAProxy section, comments and blank lines left out. */
function section(header: string): string[] {
  const lines = haproxyCfg.split("\n").map((line) => line.replace(/#.*/, "").trimEnd());
  const start = lines.indexOf(header);
  expect(start).toBeGreaterThanOrEqual(0);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    if (line.trim() !== "") body.push(line.trim());
  }
  return body;
}

describe("the rendered cluster configuration", () => {
  test("no template placeholder is left", () => {
    for (const text of [haproxyCfg, etcdEnv]) expect(text).not.toMatch(/@[A-Z_]+@/);
    for (const node of nodes) expect(JSON.stringify(node)).not.toMatch(/@[A-Z_]+@/);
  });

  test("Patroni's timings keep ttl >= loop_wait + 2 x retry_timeout, and fail over without waiting", () => {
    for (const { bootstrap } of nodes) {
      const { ttl, loop_wait, retry_timeout } = bootstrap.dcs;
      expect(ttl).toBeGreaterThanOrEqual(loop_wait + 2 * retry_timeout);
      expect(loop_wait).toBeGreaterThan(0);
      expect(bootstrap.dcs.primary_start_timeout).toBe(0);
    }
  });

  test("synchronous mode: a committed write is on a standby's disk before the client hears of it", () => {
    for (const { bootstrap } of nodes) {
      expect(bootstrap.dcs.synchronous_mode).toBe(true);
      expect(bootstrap.dcs.postgresql.parameters.synchronous_commit).toBe("on");
    }
  });

  test("three nodes with distinct names, ports and data directories, all on loopback", () => {
    expect(nodes.map((node) => node.name)).toEqual(NODES);
    const addresses = nodes.flatMap((node) => [node.restapi.listen, node.postgresql.listen]);
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const address of addresses) expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(addresses.some((address) => address.endsWith(":5432"))).toBe(false);
    expect(new Set(nodes.map((node) => node.postgresql.data_dir)).size).toBe(3);
    for (const node of nodes) expect(node.postgresql.data_dir.startsWith(dir)).toBe(true);
  });

  test("HAProxy sends the primary port to Patroni's /primary and the replica port to /replica", () => {
    const primary = section("listen postgres_primary");
    expect(primary).toContain("http-check send meth GET uri /primary");
    const replicas = section("listen postgres_replicas");
    expect(replicas).toContain("http-check send meth GET uri /replica");
    for (const body of [primary, replicas]) {
      expect(body).toContain("http-check expect status 200");
      expect(body.filter((line) => line.startsWith("server ")).length).toBe(3);
      expect(body.find((line) => line.startsWith("default-server"))).toContain(
        "on-marked-down shutdown-sessions",
      );
    }
  });

  test("HAProxy checks the API on /ready with an HTTP/1.1 request that has a Host", () => {
    const api = section("backend wallet_api_instances");
    expect(api).toContain("mode http");
    expect(api).toContain("http-check send meth GET uri /ready ver HTTP/1.1 hdr Host localhost");
    expect(api).toContain("http-check expect status 200");
  });

  test("haproxy -c accepts the file", () => {
    const haproxy = Bun.which("haproxy");
    if (!haproxy) {
      console.log(
        "haproxy is not installed: skipping `haproxy -c` (deploy/cluster/cluster.sh up installs it)",
      );
      return;
    }
    const checked = Bun.spawnSync([haproxy, "-c", "-f", join(dir, "haproxy.cfg")], {
      stderr: "pipe",
      stdout: "pipe",
    });
    expect(checked.stderr.toString() + checked.stdout.toString()).toContain("Configuration file is valid");
    expect(checked.exitCode).toBe(0);
  });
});
