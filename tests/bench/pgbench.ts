/**
 * The PostgreSQL baseline: TPC-B-like `pgbench -c 16 -T 15` at scale 10 on a scratch database of the
 * same server, in the same sitting as the HTTP scenarios.
 */
import { existsSync, readdirSync } from "node:fs";
import { createDatabase, dropDatabase, withDatabase } from "./target.ts";

export interface PgbenchResult {
  binary: string;
  command: string;
  scale: number;
  clients: number;
  seconds: number;
  tps: number;
  latencyAverageMs: number | null;
  transactions: number | null;
  failed: number | null;
}

export function findPgbench(): string | undefined {
  const onPath = Bun.which("pgbench");
  if (onPath !== null) return onPath;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const candidate = `${root}/${version}/bin/pgbench`;
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function run(command: string[]): Promise<string> {
  const child = Bun.spawn(command, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const output = `${stdout}\n${stderr}`;
  if (code !== 0) throw new Error(`${command.slice(0, -1).join(" ")} exited with ${code}:\n${output.trim()}`);
  return output;
}

const number = (output: string, pattern: RegExp): number | null => {
  const match = pattern.exec(output);
  return match?.[1] === undefined ? null : Number(match[1]);
};

export async function runPgbench(
  binary: string,
  serverUrl: string,
  log: (message: string) => void,
): Promise<PgbenchResult> {
  const scale = 10;
  const clients = 16;
  const seconds = 15;
  const database = await createDatabase(serverUrl, "wallet_pgbench");
  const url = withDatabase(serverUrl, database);
  try {
    log(`pgbench: initialising scale ${scale} in ${database}`);
    await run([binary, "-i", "-s", String(scale), "-q", url]);
    log(`pgbench: -c ${clients} -T ${seconds} (TPC-B)`);
    const output = await run([binary, "-c", String(clients), "-T", String(seconds), url]);
    const tps = number(output, /tps = ([\d.]+) \(without initial connection time\)/);
    if (tps === null) throw new Error(`pgbench: no tps in its output:\n${output}`);
    return {
      binary,
      command: `pgbench -c ${clients} -T ${seconds} (after pgbench -i -s ${scale})`,
      scale,
      clients,
      seconds,
      tps,
      latencyAverageMs: number(output, /latency average = ([\d.]+) ms/),
      transactions: number(output, /number of transactions actually processed: (\d+)/),
      failed: number(output, /number of failed transactions: (\d+)/),
    };
  } finally {
    await dropDatabase(serverUrl, database);
  }
}
