import type { Logger } from "./logger.ts";

/**
 * Runs `task` every `intervalMs`, never two runs at once in this process (other instances may run
 * theirs: every task here is written to be safe for that). Returns the function that stops it, which
 * resolves once a run in progress has finished, so the database is not closed under it.
 */
export function every(
  intervalMs: number,
  name: string,
  task: () => Promise<number>,
  logger: Logger,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  const run = async () => {
    try {
      const count = await task();
      if (count > 0) logger.info({ job: name, count }, "background job did work");
    } catch (error) {
      logger.warn({ job: name, err: error }, "background job failed; it runs again at the next interval");
    }
  };
  const timer = setInterval(() => {
    running ??= run().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
