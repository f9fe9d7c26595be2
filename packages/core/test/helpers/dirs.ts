/** Test helpers shared by the suites that open database directories. */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { isTidemarkError, open, type Database } from '../../src/index.js';

/** Makes temporary directories and removes them all at `cleanup()`. */
export function tempDirs(prefix: string): { make: () => string; cleanup: () => void } {
  const made: string[] = [];
  return {
    make: () => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    cleanup: () => {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A crash image of an open database: its files copied into `into` after a
 * flush — what a SIGKILL would leave: the WAL durable, files written since
 * the last checkpoint present but not named by a root. Closes `db`.
 *
 * The copy is taken file by file while the workers run, so it is only a
 * state a crash could leave if no root is written during it. With `tail`,
 * the image checkpoints first and `tail` then writes less than the
 * checkpoint trigger (the caller's promise), so the image holds a root, CFP
 * files with bytes past their valid lengths, and a WAL tail to replay.
 * Without it, the caller makes sure no trigger fires. Background merges
 * write roots too: open the database with `merges: false`. Files that vanish
 * during the copy (temp names being renamed) are skipped.
 */
export async function crashImage(db: Database, into: string, tail?: () => unknown): Promise<string> {
  if (tail !== undefined) {
    await db.checkpoint();
    await tail();
  }
  await db.flush();
  for (const name of readdirSync(db.dir!)) {
    if (name === 'LOCK') continue;
    try {
      copyFileSync(join(db.dir!, name), join(into, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  await db.close();
  return into;
}

/** A hash of every row of every table, in key order. */
export function contentHash(db: Database): string {
  const h = createHash('sha256');
  for (const name of db.tableNames()) {
    const rows = db
      .table(name)
      .scan()
      .map((r) =>
        JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v)),
      );
    h.update(`${name}:${rows.sort().join('\n')}\n`);
  }
  return h.digest('hex');
}

export async function rejectsWith(action: () => Promise<unknown>, code: string, mentions?: string): Promise<Error> {
  try {
    await action();
  } catch (error) {
    assert.ok(isTidemarkError(error, code as never), `expected ${code}, got ${String(error)}`);
    if (mentions !== undefined) assert.match((error as Error).message, mentions);
    return error as Error;
  }
  throw new Error(`expected ${code}`);
}

/** A seeded random integer source: each call gives an integer in [0, n). */
export function makeRandom(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
}

/** The primary keys `column` of `table` holds in `dir`, opened read-only, sorted. */
export async function keysIn(dir: string, table: string, column: string): Promise<number[]> {
  const db = await open({ dir, readOnly: true });
  try {
    return db
      .table(table)
      .scan({ columns: [column] })
      .map((r) => r[column] as number)
      .sort((a, b) => a - b);
  } finally {
    await db.close();
  }
}
