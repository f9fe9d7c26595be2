/**
 * The LOCK file: one process at a time per database directory.
 *
 * Ownership is the operating system's advisory lock on the open LOCK file
 * (`FileLayer.tryLock`), taken without waiting: of any number of openers,
 * the kernel gives it to exactly one open file, and drops it when that file
 * is closed or its process ends, however it ends, so a killed owner never
 * blocks a restart. The bytes in LOCK only name the holder, for a loser's
 * message and for a person; they never decide who owns the directory, and
 * a garbled LOCK is no obstacle (docs/FORMAT.md, "LOCK file").
 *
 *   acquire: open LOCK, creating it ─► tryLock ─► is it still the file named LOCK?
 *            ─► truncate, write "<pid> <start time> <host>\n", fdatasync, fsync the directory ─► keep it open
 *   release: unlink LOCK (still locked) ─► close (the kernel drops the lock)
 *
 * Invariants: only a holder unlinks LOCK, and only while it holds the lock
 * on the file it unlinks. So a locked file that was named LOCK when its
 * holder checked stays named LOCK until that holder lets go; two holders
 * would need two different files named LOCK at one instant, which a name
 * cannot be. An opener that locks a file its predecessor unlinked in
 * between finds it no longer named LOCK, closes it and tries again.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LOCK_ATTEMPTS, LOCK_HOLDER_WAIT_MS, LOCK_LINE_MAX_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { readAll, writeAll, type FileLayer } from './file_layer.js';

/** Directories this process holds: a second open here fails before touching the file. */
const heldHere = new Set<string>();

export interface Lock {
  release(): void;
}

/** What a LOCK line says about its holder. */
export interface LockOwner {
  pid: number;
  /** Process start time in clock ticks since boot (Linux), '' where unknown. */
  started: string;
  host: string;
}

/** The line the engine writes, and older versions' "<pid> <start time>" without the host. */
const LINE = /^([1-9][0-9]{0,9}) ([0-9]{0,20})(?: ([!-~]{1,255}))?\n$/;

/** The holder named by a LOCK's bytes, or null when they are not a line the engine writes. */
export function parseLockLine(text: string): LockOwner | null {
  const match = LINE.exec(text);
  if (match === null) return null;
  return { pid: Number(match[1]), started: match[2]!, host: match[3] ?? '' };
}

/** Takes the directory's LOCK, or rejects with TM_LOCKED naming the holder where its LOCK says. */
export async function acquireLock(layer: FileLayer, dir: string): Promise<Lock> {
  const key = resolve(dir);
  const path = join(dir, 'LOCK');
  if (heldHere.has(key)) throw locked(path, 'this process: the database is already open');
  // A winner's steps up to heldHere.add have no await: a second open() in this process finds the set filled.
  for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
    const fd = layer.open(path, true);
    let kept = false;
    try {
      if (!layer.tryLock(fd)) throw locked(path, await holderOf(layer, fd));
      // The holder raced removed this file after we opened it: the next file named LOCK is the one that counts.
      if (!layer.sameFile(fd, path)) continue;
      writeOwner(layer, dir, fd, path);
      kept = true;
    } finally {
      if (!kept) layer.close(fd);
    }
    heldHere.add(key);
    return ownedLock(layer, key, path, fd);
  }
  throw locked(path, `processes that keep replacing it (${LOCK_ATTEMPTS} tries)`);
}

function ownedLock(layer: FileLayer, key: string, path: string, fd: number): Lock {
  let held = true;
  return {
    release(): void {
      if (!held) return;
      held = false;
      heldHere.delete(key);
      try {
        // Unlinked while still locked (see the invariants); a LOCK someone replaced by hand is not ours to remove.
        if (layer.sameFile(fd, path)) layer.unlink(path);
      } finally {
        layer.close(fd);
      }
    },
  };
}

function locked(path: string, holder: string): TidemarkError {
  return new TidemarkError(ErrorCode.LOCKED, `${path} is held by ${holder}`);
}

/**
 * Writes this process's line over whatever an earlier holder left (one
 * write, shorter than a disk sector), and makes LOCK's name durable: a new
 * database's first file, so a crash at any later step leaves a directory
 * that is recognisably a database's.
 */
function writeOwner(layer: FileLayer, dir: string, fd: number, path: string): void {
  const host =
    hostname()
      .replace(/[^!-~]/g, '?')
      .slice(0, 255) || '?';
  const line = new TextEncoder().encode(`${process.pid} ${startTime(process.pid) ?? ''} ${host}\n`);
  layer.truncate(fd, 0);
  writeAll(layer, fd, path, line, 0, line.length, 0);
  layer.fdatasync(fd);
  // Earlier versions wrote LOCK through LOCK.tmp: one a crash left behind goes now (verify calls it a leftover).
  const temp = join(dir, 'LOCK.tmp');
  if (layer.exists(temp)) layer.unlink(temp);
  layer.fsyncDir(dir);
}

/**
 * Who holds the lock, for the message. A new holder writes its line just
 * after it wins, so until then the file is empty or still names the holder
 * before it (one that crashed): wait a little for a line that names a
 * running process. Only the kernel's lock decided that the file is held.
 */
async function holderOf(layer: FileLayer, fd: number): Promise<string> {
  const deadline = performance.now() + LOCK_HOLDER_WAIT_MS;
  for (;;) {
    const owner = readOwner(layer, fd);
    // A process of another machine (a shared file system) cannot be checked from here; a line without a host is from this one.
    const local = owner === null || owner.host === '' || owner.host === hostname();
    if (owner !== null && (!local || isRunning(owner)))
      return `process ${owner.pid}${local ? '' : ` on ${owner.host}`}: the database is open`;
    if (performance.now() >= deadline)
      return 'another process (LOCK does not name one that runs): the database is open';
    await new Promise((done) => setTimeout(done, 1));
  }
}

function readOwner(layer: FileLayer, fd: number): LockOwner | null {
  try {
    const bytes = new Uint8Array(LOCK_LINE_MAX_BYTES + 1);
    const n = readAll(layer, fd, bytes, 0, bytes.length, 0);
    return parseLockLine(new TextDecoder().decode(bytes.subarray(0, n)));
  } catch (error) {
    if (error instanceof TidemarkError) return null; // the name is best-effort; the lock already answered
    throw error;
  }
}

/** Whether a process of this machine with the owner's pid runs and started when the owner did. */
function isRunning(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(owner.pid);
  return owner.started === '' || now === null || now === owner.started;
}

/** The process start time (clock ticks since boot) from /proc, where there is one. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
