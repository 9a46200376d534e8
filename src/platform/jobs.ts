import type { Logger } from "./logger.ts";

/**
 * Runs `task` every `intervalMs`, never two runs at once in this process (other instances may run
 * theirs: every task here is written to be safe for that). Returns the function that stops it.
 */
export function every(
  intervalMs: number,
  name: string,
  task: () => Promise<number>,
  logger: Logger,
): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const count = await task();
      if (count > 0) logger.info({ job: name, count }, "background job did work");
    } catch (error) {
      logger.warn({ job: name, err: error }, "background job failed; it runs again at the next interval");
    } finally {
      running = false;
    }
  }, intervalMs);
  return () => clearInterval(timer);
}
