/** Runs the service as a separate process, as an operator would, for tests that kill or restart it. */
import type { Subprocess } from "bun";

export interface ServiceProcess {
  baseUrl: string;
  process: Subprocess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Everything the process wrote to stdout so far (its JSON log lines). */
  stdout(): string;
}

const ROOT = new URL("../../", import.meta.url).pathname;

export const randomPort = () => 20_000 + Math.floor(Math.random() * 20_000);

/** Reads `stream` to its end in the background, appending what arrives to `sink`. */
function drain(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): void {
  void (async () => {
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      sink(decoder.decode(chunk.value, { stream: true }));
    }
  })();
}

/**
 * Starts `bun <script>` (the service's src/main.ts unless told otherwise) with `env` and waits until
 * /ready answers 200 (or throws after `timeoutMs`).
 */
export async function startServiceProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  script = "src/main.ts",
): Promise<ServiceProcess> {
  const port = randomPort();
  const child = Bun.spawn([process.execPath, script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_SECOND: "0",
      ...env,
      PORT: String(port),
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  let stderrText = "";
  let stdoutText = "";
  drain(child.stderr, (text) => {
    stderrText += text;
  });
  drain(child.stdout, (text) => {
    stdoutText += text;
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${stderrText}`);
    const ready = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(1_000) }).catch(
      () => undefined,
    );
    if (ready?.status === 200) {
      return { baseUrl, process: child, stderr: () => stderrText, stdout: () => stdoutText };
    }
    await Bun.sleep(100);
  }
  child.kill(9);
  throw new Error(`service did not become ready within ${timeoutMs} ms: ${stderrText}`);
}
