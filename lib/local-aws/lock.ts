// A cross-process lock file (O_EXCL create) with stale-owner detection, so concurrent test runs
// sharing one checkout never provision or start LocalStack twice.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A lock file whose owner never wrote its pid (crashed right after creating it). */
function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return false;
  }
}

export interface LockOptions {
  timeoutMs?: number;
  onWait?: (ownerPid: number | undefined) => void;
}

/** Acquires `path`; returns the release function. Throws after `timeoutMs` (default 15 min). */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readOwner(path) === process.pid) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = readOwner(path);
    // The owner writes its pid right after creating the file; an unreadable pid for a moment is normal.
    if ((owner !== undefined && !isPidAlive(owner)) || (owner === undefined && olderThan(path, 10_000))) {
      try {
        unlinkSync(path);
      } catch {
        // another waiter removed it first
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for lock ${path} held by pid ${owner ?? "?"}`);
    }
    if (!announced) {
      opts.onWait?.(owner);
      announced = true;
    }
    await sleep(250);
  }
}
