/**
 * The start-up scenario: time from spawn to the first 200 on GET /ready, on embedded PGlite, for a
 * fresh DATA_DIR (the cluster is created) and then the same DATA_DIR again (it is opened), for
 * `bun src/main.ts` and the compiled binary dist/wallet (built when missing).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, buildBinary, ROOT, SYSTEM_PATH, startProcess, stopProcess } from "../helpers/process.ts";

export interface StartupResult {
  program: string;
  dataDir: "fresh" | "existing";
  runsMs: number[];
  medianMs: number;
}

const BINARY = join(ROOT, "dist/wallet");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? 0) + upper) / 2;
}

/** Milliseconds to the first 200 on /ready; the service is stopped again (SIGTERM) afterwards. */
async function timeStart(command: string[], dataDir: string): Promise<number> {
  const env = { PATH: SYSTEM_PATH, DATA_DIR: dataDir, LOG_LEVEL: "warn" };
  const service = await startProcess(command, { cwd: ROOT, env, timeoutMs: 120_000 });
  const exitCode = await stopProcess(service.process);
  if (exitCode !== 0) throw new Error(`${command.join(" ")} exited with ${exitCode} on SIGTERM`);
  return service.startupMs;
}

export interface StartupRun {
  /** The machine's one-minute load average before the first start: the figures mean little on a busy one. */
  loadAverageBefore: number;
  results: StartupResult[];
}

export async function runStartup(runs: number, log: (message: string) => void): Promise<StartupRun> {
  const [loadAverageBefore = 0] = loadavg();
  if (await Bun.file(BINARY).exists()) log(`start-up: using the existing ${BINARY}`);
  else {
    log(`start-up: building ${BINARY}`);
    await buildBinary(BINARY);
  }
  const programs = [
    { program: "bun src/main.ts", command: [BUN, "src/main.ts"] },
    { program: "dist/wallet", command: [BINARY] },
  ];
  const results: StartupResult[] = [];
  for (const { program, command } of programs) {
    const fresh: number[] = [];
    const existing: number[] = [];
    for (let run = 1; run <= runs; run++) {
      const scratch = await mkdtemp(join(tmpdir(), "wallet-bench-startup-"));
      try {
        const dataDir = join(scratch, "data");
        fresh.push(await timeStart(command, dataDir));
        existing.push(await timeStart(command, dataDir));
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      log(
        `start-up: ${program} run ${run}/${runs}: fresh ${fresh.at(-1)?.toFixed(0)} ms, existing ${existing.at(-1)?.toFixed(0)} ms`,
      );
    }
    results.push({ program, dataDir: "fresh", runsMs: fresh, medianMs: median(fresh) });
    results.push({ program, dataDir: "existing", runsMs: existing, medianMs: median(existing) });
  }
  return { loadAverageBefore, results };
}

export function startupReport({ loadAverageBefore, results }: StartupRun, cpuCount: number): string {
  const runs = results[0]?.runsMs.length ?? 0;
  const lines = [
    "",
    `Start-up on embedded PGlite: spawn to the first 200 on GET /ready (median of ${runs}; load average ${loadAverageBefore.toFixed(2)} before, on ${cpuCount} cores)`,
    "",
    `${"scenario".padEnd(44)}${"median ms".padStart(10)}  runs ms`,
  ];
  for (const result of results) {
    const name = `${result.program}, ${result.dataDir} DATA_DIR`;
    const each = result.runsMs.map((ms) => ms.toFixed(0)).join(", ");
    lines.push(`${name.padEnd(44)}${result.medianMs.toFixed(0).padStart(10)}  ${each}`);
  }
  return lines.join("\n");
}
