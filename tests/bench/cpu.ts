/**
 * CPU time from /proc (Linux), to show where a scenario's CPU went: the service, its PostgreSQL
 * backends (local server only) and the load generator share this machine, and so may other work,
 * which the whole-machine figure reveals. Where /proc cannot be read the figures are null.
 */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/** utime + stime of one process so far. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine, all cores (everything but idle and iowait). */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const busy = ticks.reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
    return Number.isFinite(busy) ? busy / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time of the current process (the load generator while a scenario runs). */
function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export interface CpuShare {
  /** Percent of one core over the scenario's wall time. */
  service: number | null;
  /** The backends connected to the service's database (the service's pool). */
  postgres: number | null;
  loadGenerator: number;
  /** Everything on the machine; beyond the three above, that is other processes. */
  machine: number | null;
}

export interface CpuSources {
  serviceSeconds(): number | undefined;
  /** Process ids of the PostgreSQL backends serving the service. */
  backendPids(): Promise<number[]>;
}

function backendSeconds(pids: number[]): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const pid of pids) {
    const value = processCpuSeconds(pid);
    if (value !== undefined) seconds.set(pid, value);
  }
  return seconds;
}

/** Takes readings now; the returned function gives the shares since then. */
export async function startCpuMeter(sources: CpuSources): Promise<() => Promise<CpuShare>> {
  const backendsBefore = backendSeconds(await sources.backendPids());
  const started = performance.now();
  const service = sources.serviceSeconds();
  const own = ownCpuSeconds();
  const machine = machineBusySeconds();
  return async () => {
    const wall = (performance.now() - started) / 1000;
    const share = (seconds: number) => Math.round((seconds / wall) * 100);
    const since = (before: number | undefined, after: number | undefined) =>
      before === undefined || after === undefined ? null : share(after - before);
    const serviceShare = since(service, sources.serviceSeconds());
    const ownShare = share(ownCpuSeconds() - own);
    const machineShare = since(machine, machineBusySeconds());
    // A backend the pool opened during the scenario counts from zero; one it closed is lost.
    const backendsAfter = backendSeconds(await sources.backendPids());
    let postgres = 0;
    for (const [pid, after] of backendsAfter) postgres += after - (backendsBefore.get(pid) ?? 0);
    return {
      service: serviceShare,
      postgres: backendsAfter.size === 0 ? null : share(postgres),
      loadGenerator: ownShare,
      machine: machineShare,
    };
  };
}
