/**
 * One process at a time on an embedded DATA_DIR. PGlite has no locking of its own: two processes on
 * one data directory both start, both answer, and silently overwrite each other's pages.
 *
 * The lock is a file, DATA_DIR/wallet.lock, naming its owner (pid, host and the process's start time).
 * It appears atomically and complete (written aside, then hard-linked into place, which fails when
 * the name exists), is held for the life of the process and removed on close or exit. A lock whose
 * owner is gone (a crash, a SIGKILL, a power cut) is stale and the next start takes it over.
 */
import { readFileSync, unlinkSync } from "node:fs";
import { link, open, readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

const LOCK_FILE = "wallet.lock";
/** Held while a starter removes a stale lock, so that of two starters only one removes it. */
const TAKEOVER_FILE = "wallet.lock.takeover";

/** Who holds the lock, as written in the lock file. */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** The process's start time in clock ticks since boot (Linux /proc); tells a reused pid from the owner. */
  startTime: string | null;
}

/** DATA_DIR belongs to another live process (or cannot be told apart from one). */
export class DataDirLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataDirLockedError";
  }
}

export interface DataDirLock {
  /** Removes the lock file if it is still this process's. */
  release(): Promise<void>;
}

type ProcessState = { alive: false } | { alive: true; startTime: string | null };

/**
 * Whether process `pid` runs on this host, and its start time (field 22 of /proc/<pid>/stat) where
 * there is a /proc; without one the pid alone has to do.
 */
function processState(pid: number): ProcessState {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return isAlive(pid) ? { alive: true, startTime: null } : { alive: false };
  }
  // "pid (command) state ppid …": the command may hold spaces and parentheses, so count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // A zombie has exited; it only waits for its parent to reap it.
  if (fields[0] === "Z" || fields[0] === "X") return { alive: false };
  return { alive: true, startTime: fields[19] ?? null };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function ownProcess(): LockOwner {
  const state = processState(process.pid);
  return { pid: process.pid, hostname: hostname(), startTime: state.alive ? state.startTime : null };
}

/** Lock files held by this process, by path: the same pid in a lock file is this process only if listed. */
const heldHere = new Set<string>();

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return undefined;
    const { pid, hostname: host, startTime } = value as Record<string, unknown>;
    if (!Number.isSafeInteger(pid) || typeof pid !== "number" || pid <= 0 || typeof host !== "string") {
      return undefined;
    }
    return { pid, hostname: host, startTime: typeof startTime === "string" ? startTime : null };
  } catch {
    return undefined;
  }
}

/**
 * Whether the owner may still run. Another host's processes cannot be seen from here, so a lock from
 * another host always counts as held. This process's own pid, in a lock it does not hold, is a previous
 * run that had the same pid (a container's pid 1, restarted).
 */
function ownerIsAlive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid) return false;
  const state = processState(owner.pid);
  if (!state.alive) return false;
  // The same pid with another start time: the owner died and its pid went to another process.
  return state.startTime === null || owner.startTime === null || state.startTime === owner.startTime;
}

const describe = (owner: LockOwner) =>
  owner.hostname === hostname() ? `process ${owner.pid}` : `process ${owner.pid} on host ${owner.hostname}`;

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Writes `text` to a new file at `path`, readable by the owner only, on disk before it is linked anywhere. */
async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, "wx", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes the stale lock whose text is `staleText`, unless another starter got there first: under the
 * takeover file (created exclusively), the lock is read again and removed only if it is still that one.
 * Returns false when another starter holds the takeover file.
 */
async function removeStaleLock(dir: string, staleText: string): Promise<boolean> {
  const takeoverPath = join(dir, TAKEOVER_FILE);
  try {
    await writeFile(takeoverPath, String(process.pid), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    const lockPath = join(dir, LOCK_FILE);
    if ((await readIfExists(lockPath)) === staleText) await unlink(lockPath);
    return true;
  } finally {
    await unlink(takeoverPath);
  }
}

/** How long a start waits for another starter's takeover of a stale lock to finish. */
const TAKEOVER_WAIT_MS = 2_000;

/**
 * Takes the lock on `dir`, or throws DataDirLockedError naming the process that holds it.
 * `onTakeover` hears of a stale lock taken over (for the log).
 */
export async function lockDataDir(
  dir: string,
  onTakeover: (previous: LockOwner) => void = () => {},
): Promise<DataDirLock> {
  const lockPath = join(dir, LOCK_FILE);
  if (heldHere.has(lockPath)) {
    throw new DataDirLockedError(`DATA_DIR ${dir} is already open in this process (lock file ${lockPath})`);
  }
  const text = JSON.stringify(ownProcess());
  const candidatePath = join(dir, `${LOCK_FILE}.${process.pid}.${crypto.randomUUID()}`);
  await writeDurably(candidatePath, text);
  try {
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      try {
        await link(candidatePath, lockPath);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const currentText = await readIfExists(lockPath);
      if (currentText === undefined) continue;
      const owner = parseOwner(currentText);
      if (owner === undefined) {
        throw new DataDirLockedError(
          `DATA_DIR ${dir} has a lock file that cannot be read (${lockPath}); remove it once no other wallet process uses DATA_DIR`,
        );
      }
      if (ownerIsAlive(owner)) {
        const remedy =
          owner.hostname === hostname()
            ? "stop it first"
            : `stop it first; if that host is gone for good, remove ${lockPath}`;
        throw new DataDirLockedError(`DATA_DIR ${dir} is in use by ${describe(owner)}: ${remedy}`);
      }
      if (await removeStaleLock(dir, currentText)) {
        onTakeover(owner);
      } else if (Date.now() > deadline) {
        throw new DataDirLockedError(
          `DATA_DIR ${dir}: another start is taking over its stale lock; if none is, remove ${join(dir, TAKEOVER_FILE)}`,
        );
      } else {
        await Bun.sleep(20);
      }
    }
  } finally {
    await unlink(candidatePath);
  }
  heldHere.add(lockPath);

  // The process may end without close(): a failed start-up, process.exit. A SIGKILL or a crash of
  // the runtime leaves the lock behind, and the next start takes it over as stale.
  const releaseOnExit = () => releaseSync(lockPath, text);
  process.once("exit", releaseOnExit);
  return {
    async release() {
      process.off("exit", releaseOnExit);
      releaseSync(lockPath, text);
    },
  };
}

/** Removes the lock file if it still holds `text` (it was not removed and taken by someone else). */
function releaseSync(lockPath: string, text: string): void {
  heldHere.delete(lockPath);
  try {
    if (readFileSync(lockPath, "utf8") === text) unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}
