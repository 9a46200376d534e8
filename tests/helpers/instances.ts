/**
 * Several service processes on one PostgreSQL: a fresh scratch database of `serverUrl`, and `count`
 * instances on it, started one after the other (the first applies the migrations, the others find
 * them applied). For the tests of what holds across instances.
 */
import { type Running, startServiceProcess, stopProcess } from "./process.ts";
import { createScratchDatabase } from "./server.ts";
import { randomCardKey } from "./values.ts";

export interface Instances {
  running: Running[];
  /** The scratch database's URL. */
  databaseUrl: string;
  /** Stops every instance and drops the database. */
  stop(): Promise<void>;
}

export async function startInstances(
  serverUrl: string,
  count: number,
  env: { ADMIN_API_KEY: string; DB_POOL_MAX: string },
): Promise<Instances> {
  const scratch = await createScratchDatabase(serverUrl);
  const running: Running[] = [];
  const stop = async () => {
    await Promise.all(running.map((instance) => stopProcess(instance.process)));
    await scratch.drop();
  };
  try {
    const instanceEnv = {
      ...env,
      DATABASE_URL: scratch.url,
      CARD_ENCRYPTION_KEY: randomCardKey(),
    };
    for (let index = 0; index < count; index++) running.push(await startServiceProcess(instanceEnv, 60_000));
  } catch (error) {
    await stop();
    throw error;
  }
  return { running, databaseUrl: scratch.url, stop };
}
