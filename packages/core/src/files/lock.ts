/**
 * The LOCK file: one process at a time per database directory. It holds the
 * owner's pid and process start time; a lock whose owner is gone (a killed
 * process) — or whose pid now belongs to a different process — is taken
 * over, so a crash never blocks a restart. A second opener while the owner
 * lives, in this process or another, gets TM_LOCKED.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';
import { readAll, writeFileDurably, type FileLayer } from './file_layer.js';

const heldHere = new Set<string>();

export interface Lock {
  release(): void;
}

export function acquireLock(layer: FileLayer, dir: string): Lock {
  const key = resolve(dir);
  const path = join(dir, 'LOCK');
  if (heldHere.has(key)) throw new TidemarkError(ErrorCode.LOCKED, `${path} is held by this process: the database is already open`);
  if (layer.exists(path)) {
    const owner = readOwner(layer, path);
    if (owner !== null && owner.pid !== process.pid && isAlive(owner.pid, owner.started)) {
      throw new TidemarkError(ErrorCode.LOCKED, `${path} is held by live process ${owner.pid}`);
    }
  }
  const text = `${process.pid} ${startTime(process.pid) ?? ''}\n`;
  writeFileDurably(layer, dir, 'LOCK', new TextEncoder().encode(text));
  heldHere.add(key);
  return {
    release(): void {
      if (!heldHere.delete(key)) return;
      if (layer.exists(path)) layer.unlink(path);
    },
  };
}

function readOwner(layer: FileLayer, path: string): { pid: number; started: string | null } | null {
  const fd = layer.open(path, false);
  try {
    const bytes = new Uint8Array(64);
    const n = readAll(layer, fd, bytes, 0, bytes.length, 0);
    const [pid, started] = new TextDecoder().decode(bytes.subarray(0, n)).trim().split(' ');
    const value = Number(pid);
    return Number.isSafeInteger(value) && value > 0 ? { pid: value, started: started || null } : null;
  } finally {
    layer.close(fd);
  }
}

function isAlive(pid: number, started: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // The pid is in use; it is our owner only if it started when the owner did.
  const now = startTime(pid);
  return started === null || now === null || now === started;
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
