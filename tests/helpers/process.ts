/**
 * Running programs as an operator would, for tests that start, kill or restart the service (or its
 * compiled binary) and for commands run to their end: the one place tests spawn processes and read
 * their output.
 */
import type { Subprocess } from "bun";

export const ROOT = new URL("../../", import.meta.url).pathname;

export const BUN = `${ROOT}node_modules/.bin/bun`;

/** A PATH with the system's directories only: nothing of the project (node_modules, bun) is on it. */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A port nothing listens on right now (the kernel's choice, released at once). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Reads `stream` to its end, handing each piece of text to `sink` as it arrives; resolves at the end. */
export async function drain(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    sink(decoder.decode(chunk.value, { stream: true }));
  }
}

export interface Finished {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`), with `stdin` as its input when given. */
export async function run(
  command: string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: Uint8Array; timeoutMs?: number } = {},
): Promise<Finished> {
  const child = Bun.spawn(command, {
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdin: options.stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 30_000,
  });
  const [stdout, stderr] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  await child.exited;
  return { exitCode: child.exitCode, stdout, stderr };
}

export interface Running {
  process: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  baseUrl: string;
  /** From the spawn to the first 200 of GET /ready. */
  startupMs: number;
  /** Everything the process wrote to stdout so far (its log lines). */
  stdout(): string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
}

/**
 * Starts a long-running program (`serve`) with exactly `env` plus HOST and PORT (a free one, unless
 * `env` names it), and waits until GET /ready answers 200 (or throws after `timeoutMs`, killing it).
 */
export async function startProcess(
  command: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<Running> {
  const port = options.env.PORT === undefined ? freePort() : Number(options.env.PORT);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const startedAt = performance.now();
  const child = Bun.spawn(command, {
    cwd: options.cwd,
    env: { ...options.env, PORT: String(port), HOST: "127.0.0.1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let stdoutText = "";
  let stderrText = "";
  void drain(child.stdout, (text) => {
    stdoutText += text;
  });
  void drain(child.stderr, (text) => {
    stderrText += text;
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${command.join(" ")} exited with ${child.exitCode}: ${stderrText}${stdoutText}`);
    }
    const ready = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
      () => undefined,
    );
    if (ready?.status === 200) {
      const startupMs = performance.now() - startedAt;
      await ready.arrayBuffer();
      return { process: child, port, baseUrl, startupMs, stdout: () => stdoutText, stderr: () => stderrText };
    }
    await ready?.arrayBuffer();
    await Bun.sleep(20);
  }
  child.kill(9);
  await child.exited;
  throw new Error(`${command.join(" ")} was not ready within ${timeoutMs} ms: ${stderrText}`);
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves with the exit code. */
export async function stopProcess(child: Subprocess, graceMs = 20_000): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
    if (!exited) {
      child.kill(9);
      await child.exited;
    }
  }
  return child.exitCode;
}

/**
 * `bun <script>` (the service's src/main.ts unless told otherwise) from the repository, with the
 * project's PATH, warnings-only logs and rate limiting off under `env`, started as {@link startProcess}.
 */
export function startServiceProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  script = "src/main.ts",
): Promise<Running> {
  return startProcess([process.execPath, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", RATE_LIMIT_PER_SECOND: "0", ...env },
    timeoutMs,
  });
}

/** The service on an in-memory database, with a line for every request (`LOG_LEVEL=info`) in `format`. */
export function startLoggingService(format: "json" | "pretty", adminKey: string): Promise<Running> {
  return startServiceProcess({
    LOG_FORMAT: format,
    LOG_LEVEL: "info",
    DATA_DIR: "memory://",
    ADMIN_API_KEY: adminKey,
  });
}

/** Builds the single-file binary of src/main.ts at `outfile`, as `npm run build` does (prepared cluster included). */
export async function buildBinary(outfile: string): Promise<void> {
  const build = await run([BUN, "scripts/build.ts", "--outfile", outfile], {
    timeoutMs: 180_000,
  });
  if (build.exitCode !== 0) throw new Error(`scripts/build.ts failed (${build.exitCode}): ${build.stderr}`);
}
