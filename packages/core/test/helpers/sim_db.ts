/**
 * Fault tests' workload over a simulated file system: a database opened
 * inline (log writer and streamer on the main thread) over a SimFileLayer,
 * a deterministic stream of transactions whose every prefix has a known
 * content hash, and the check that a recovered database equals the model at
 * a prefix holding every acknowledged commit.
 */
import { createHash } from 'node:crypto';
import type { Database, OpenOptions, Transaction } from '../../src/index.js';
import { openWith } from '../../src/database.js';
import type { FileLayer } from '../../src/files/file_layer.js';
import { inlineThreads } from '../../src/threads/inline.js';

export const DIR = '/sim/db';

export const TABLES = [
  {
    name: 'items',
    columns: [
      { name: 'id', type: 'int32' },
      { name: 'v', type: 'int32' },
      { name: 'pad', type: 'string' },
    ],
    primaryKey: ['id'],
  },
] as const;

/** Small files and no timers: pairs close, roots are replaced and segments roll over within a few dozen transactions. */
export const SIM_OPTIONS: OpenOptions = {
  walSegmentBytes: 64 * 1024,
  dataFileSizeBytes: 64 * 1024,
  checkpointWalBytes: 64 * 1024,
  checkpointIntervalMs: 0,
  mergeIntervalMs: 0,
  recoveryWorkers: 0,
  precreatedFiles: 1,
  ringBytes: 64 * 1024,
  tables: TABLES as unknown as OpenOptions['tables'],
};

export function openSim(layer: FileLayer, options: OpenOptions = {}): Promise<Database> {
  return openWith({ dir: DIR, ...SIM_OPTIONS, ...options }, { layer, threads: inlineThreads(layer) });
}

/** The pad of row i: 300 characters unless a test gives its own sizes. */
export type PadOf = (i: number) => string;
const pad: PadOf = (i) => `row ${i} `.padEnd(300, '#');

/** Transaction i: inserts row i, bumps row i - 3, deletes row i - 7 (so deletes reach older pairs). */
export function applyTxn(tx: Transaction, i: number, padOf: PadOf = pad): void {
  tx.insert('items', { id: i, v: 0, pad: padOf(i) });
  if (i > 3) tx.update('items', i - 3, { v: i });
  if (i > 7 && i % 3 !== 0) tx.delete('items', i - 7);
}

/** The content hash after transactions 1..k, for every k up to n (index k). */
export function modelHashes(n: number, padOf: PadOf = pad): string[] {
  const rows = new Map<number, { id: number; v: number; pad: string }>();
  const hashes = [hashRows(rows)];
  for (let i = 1; i <= n; i++) {
    rows.set(i, { id: i, v: 0, pad: padOf(i) });
    if (i > 3) rows.get(i - 3)!.v = i;
    if (i > 7 && i % 3 !== 0) rows.delete(i - 7);
    hashes.push(hashRows(rows));
  }
  return hashes;
}

function hashRows(rows: Map<number, { id: number; v: number; pad: string }>): string {
  const h = createHash('sha256');
  for (const id of [...rows.keys()].sort((a, b) => a - b)) h.update(JSON.stringify(rows.get(id)));
  return h.digest('hex');
}

/** The same hash of a database's `items`. */
export function dbHash(db: Database): string {
  const h = createHash('sha256');
  const rows = db.table('items').scan() as Array<{ id: number; v: number; pad: string }>;
  rows.sort((a, b) => a.id - b.id);
  for (const r of rows) h.update(JSON.stringify({ id: r.id, v: r.v, pad: r.pad }));
  return h.digest('hex');
}

/** The transactions applied (the `n` in meta is not kept: the prefix is found from the hash). */
export function prefixOf(db: Database, hashes: string[]): number {
  return hashes.indexOf(dbHash(db));
}

export interface RunResult {
  /** The newest transaction acknowledged durable (every one before it is too). */
  acked: number;
  /** The newest transaction whose commit call returned (it may not be durable). */
  committed: number;
  /** The error that stopped the run, if one did. */
  error: unknown;
}

/**
 * Runs transactions from..to: each committed, then awaited durable in groups
 * of `group`; a checkpoint every `checkpointEvery` and a merge every
 * `mergeEvery`. Stops at the first error (a crash, a failed log).
 */
export async function runTxns(
  db: Database,
  from: number,
  to: number,
  plan: { group?: number; checkpointEvery?: number; mergeEvery?: number; padOf?: PadOf } = {},
): Promise<RunResult> {
  const result: RunResult = { acked: from - 1, committed: from - 1, error: null };
  const group = plan.group ?? 4;
  try {
    for (let i = from; i <= to; i++) {
      db.transactionSync((tx) => applyTxn(tx, i, plan.padOf));
      result.committed = i;
      if ((i - from + 1) % group === 0 || i === to) {
        await db.flush();
        result.acked = i;
      }
      if (plan.checkpointEvery !== undefined && i % plan.checkpointEvery === 0) await db.checkpoint();
      if (plan.mergeEvery !== undefined && i % plan.mergeEvery === 0) await db.merge();
    }
  } catch (error) {
    result.error = error;
  }
  return result;
}

/** Closes a database whose disk may have crashed; whatever fails is ignored (the LOCK is released either way). */
export async function abandon(db: Database): Promise<void> {
  await db.close().catch(() => {});
}
