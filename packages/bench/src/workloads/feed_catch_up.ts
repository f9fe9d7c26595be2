/**
 * The change feed catching up: `db.changes({ since: 0 })` over a WAL that
 * holds N single-row commits and nothing else running, read until the
 * newest commit. Every commit is older than the feed, so all of them come
 * from the WAL (read on a worker, decoded on the main thread), none from
 * the feed's memory. Checkpoints are off so that no segment is recycled
 * before the feed reads it.
 */
import { join } from 'node:path';
import { COMMIT_CHUNK_OPS } from '../constants.js';
import { openAccounts, rowAt, type RowColumns, TABLE } from '../data.js';
import { collectGarbage } from '../measure.js';

export interface CatchUp {
  commits: number;
  /** Changes the feed handed out, up to the newest commit. */
  changes: number;
  batches: number;
  seconds: number;
  /** WAL bytes written since the database opened (stats().durability.wal.bytes): what the feed reads back. */
  walBytes: number;
}

/** Writes `rows` as single-row commits (delayed, then one flush), then reads them back through a feed. */
export async function measureCatchUp(base: string, rows: RowColumns, log: (line: string) => void): Promise<CatchUp> {
  const db = await openAccounts(join(base, 'wal'), { checkpoints: false });
  try {
    const table = db.table(TABLE);
    const options = { durability: 'delayed' } as const;
    log(`feed: ${rows.count.toLocaleString('en-US')} single-row commits into the WAL`);
    for (let i = 0; i < rows.count; i += COMMIT_CHUNK_OPS) {
      const end = Math.min(rows.count, i + COMMIT_CHUNK_OPS);
      const pending: Array<Promise<number>> = [];
      for (let j = i; j < end; j++) pending.push(table.insert(rowAt(rows, j), options));
      await Promise.all(pending);
    }
    await db.flush();
    const newest = db.stats().commitTs;
    const walBytes = db.stats().durability?.wal.bytes ?? 0;
    collectGarbage();
    log('feed: db.changes({ since: 0 }) read back to the newest commit');
    let changes = 0;
    let batches = 0;
    const started = performance.now();
    for await (const batch of db.changes({ since: 0 })) {
      changes += batch.changes.length;
      batches++;
      if (batch.commitTs >= newest) break;
    }
    const seconds = (performance.now() - started) / 1000;
    return { commits: rows.count, changes, batches, seconds, walBytes };
  } finally {
    await db.close();
  }
}
