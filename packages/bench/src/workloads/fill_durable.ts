/**
 * Filling a table of a database on disk, fast: rows in `db.transactionSync`
 * batches of BUILD_BATCH_ROWS with delayed durability, waiting for the log
 * every FLUSH_EVERY_BATCHES batches so that its backlog stays bounded, and
 * once at the end, so every row is durable when the fill resolves. The
 * `schema` and `addIndex` workloads build their tables so (as `recovery`
 * does); only what comes after is measured.
 */
import type { Database, Row } from '@tidemark/core';
import { BUILD_BATCH_ROWS } from '../constants.js';
import { TABLE } from '../data.js';

/** The fill waits for the log every this many batches. */
const FLUSH_EVERY_BATCHES = 50;

/** Inserts `rowOf(i)` for i in [from, to) into `table` (default the accounts table); resolves once all of them are durable. */
export async function fillDurable(
  db: Database,
  from: number,
  to: number,
  rowOf: (i: number) => Row,
  table: string = TABLE,
): Promise<void> {
  const options = { durability: 'delayed' } as const;
  let batches = 0;
  for (let i = from; i < to; i += BUILD_BATCH_ROWS) {
    const end = Math.min(to, i + BUILD_BATCH_ROWS);
    db.transactionSync((tx) => {
      for (let j = i; j < end; j++) tx.insert(table, rowOf(j));
    }, options);
    if (++batches % FLUSH_EVERY_BATCHES === 0) await db.flush();
  }
  await db.flush();
}
