/** Runs the service as a separate process, as an operator would, for tests that kill or restart it. */
import type { Subprocess } from "bun";

export interface ServiceProcess {
  baseUrl: string;
  process: Subprocess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
}

const ROOT = new URL("../../", import.meta.url).pathname;

export const randomPort = () => 20_000 + Math.floor(Math.random() * 20_000);

/** Starts `bun src/main.ts` with `env` and waits until /ready answers 200 (or throws after `timeoutMs`). */
export async function startServiceProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServiceProcess> {
  const port = randomPort();
  const child = Bun.spawn([process.execPath, "src/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_SECOND: "0",
      ...env,
      PORT: String(port),
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  let stderrText = "";
  void (async () => {
    const reader = child.stderr.getReader();
    const decoder = new TextDecoder();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      stderrText += decoder.decode(chunk.value, { stream: true });
    }
  })();
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${stderrText}`);
    const ready = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
      () => undefined,
    );
    if (ready?.status === 200) return { baseUrl, process: child, stderr: () => stderrText };
    await Bun.sleep(100);
  }
  child.kill(9);
  throw new Error(`service did not become ready within ${timeoutMs} ms: ${stderrText}`);
}
