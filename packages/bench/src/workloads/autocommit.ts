/**
 * `autocommit`: commits of one row each, per second.
 *
 * Three Tidemark loops, on one table: `t.insert(row)` of --rows new rows,
 * then `t.update(id, {balance, ts})` of --ops random existing ids (both
 * autocommit, each its own transaction, issued COMMIT_CHUNK_OPS at a time and
 * awaited together with Promise.all, so the figure is commit throughput and
 * not the latency of one promise), then --ops random updates each in its own
 * `db.transactionSync`, which commits without a promise.
 *
 * The baseline is a Map: `map.set(id, newObject)` per op, synchronously.
 * The log sink discards (the default), as the target assumes.
 */
import type { Database, Table } from '@tidemark/core';
import { COMMIT_CHUNK_OPS, TARGET_COMMITS_PER_SECOND, WARMUP_OPS } from '../constants.js';
import {
  generateRows,
  openAccounts,
  randomBalances,
  randomIds,
  rowAt,
  TABLE,
  type Account,
  type RowColumns,
} from '../data.js';
import { collectGarbage, deadlineNs, nowNs, pastDeadline, rate, secondsSince } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';

/** Random updates: row i sets `balances[i]` on `ids[i]`. */
interface Updates {
  readonly count: number;
  readonly ids: Int32Array;
  readonly balances: Float64Array;
}

/** How many ops a loop ran, and in how long. */
interface Timed {
  ops: number;
  seconds: number;
}

const UPDATE_TS = Date.UTC(2025, 0, 1);

async function insertAutocommit(t: Table, rows: RowColumns, deadline: bigint | null): Promise<number> {
  const pending = new Array<Promise<number>>(COMMIT_CHUNK_OPS);
  let i = 0;
  while (i < rows.count) {
    const end = Math.min(rows.count, i + COMMIT_CHUNK_OPS);
    pending.length = end - i;
    for (let k = 0; i < end; i++, k++) pending[k] = t.insert(rowAt(rows, i));
    await Promise.all(pending);
    if (pastDeadline(deadline)) break;
  }
  return i;
}

async function updateAutocommit(t: Table, updates: Updates, deadline: bigint | null): Promise<number> {
  const pending = new Array<Promise<number>>(COMMIT_CHUNK_OPS);
  let i = 0;
  while (i < updates.count) {
    const end = Math.min(updates.count, i + COMMIT_CHUNK_OPS);
    pending.length = end - i;
    for (let k = 0; i < end; i++, k++)
      pending[k] = t.update(updates.ids[i], { balance: updates.balances[i], ts: UPDATE_TS + i });
    await Promise.all(pending);
    if (pastDeadline(deadline)) break;
  }
  return i;
}

function updateSyncLoop(db: Database, updates: Updates, deadline: bigint | null): number {
  let i = 0;
  while (i < updates.count) {
    const end = Math.min(updates.count, i + COMMIT_CHUNK_OPS);
    for (; i < end; i++) {
      const id = updates.ids[i];
      const patch = { balance: updates.balances[i], ts: UPDATE_TS + i };
      db.transactionSync((tx) => tx.update(TABLE, id, patch));
    }
    if (pastDeadline(deadline)) break;
  }
  return i;
}

function insertMap(map: Map<number, Account>, rows: RowColumns, deadline: bigint | null): number {
  let i = 0;
  while (i < rows.count) {
    const end = Math.min(rows.count, i + COMMIT_CHUNK_OPS);
    for (; i < end; i++) map.set(rows.ids[i]!, rowAt(rows, i));
    if (pastDeadline(deadline)) break;
  }
  return i;
}

function updateMap(map: Map<number, Account>, updates: Updates, deadline: bigint | null): number {
  let i = 0;
  while (i < updates.count) {
    const end = Math.min(updates.count, i + COMMIT_CHUNK_OPS);
    for (; i < end; i++) {
      const id = updates.ids[i]!;
      const old = map.get(id)!;
      map.set(id, { id, name: old.name, balance: updates.balances[i]!, ts: UPDATE_TS + i });
    }
    if (pastDeadline(deadline)) break;
  }
  return i;
}

async function timed(loop: () => number | Promise<number>): Promise<Timed> {
  const started = nowNs();
  const ops = await loop();
  return { ops, seconds: secondsSince(started) };
}

interface Runs {
  insert: Timed;
  update: Timed;
  updateSync: Timed | null;
}

/** The updates, with ids folded into 1..maxId when a time limit cut the inserts short. */
function within(updates: Updates, maxId: number): Updates {
  let ids = updates.ids;
  if (ids.some((id) => id > maxId)) ids = ids.map((id) => 1 + ((id - 1) % maxId));
  return { ...updates, ids };
}

async function runTidemark(rows: RowColumns, updates: Updates, seconds: number | null): Promise<Runs> {
  const db = await openAccounts();
  const t = db.table(TABLE);
  const insert = await timed(() => insertAutocommit(t, rows, deadlineNs(seconds)));
  const live = within(updates, insert.ops);
  const update = await timed(() => updateAutocommit(t, live, deadlineNs(seconds)));
  const updateSync = await timed(() => updateSyncLoop(db, live, deadlineNs(seconds)));
  await db.close();
  return { insert, update, updateSync };
}

async function runMap(rows: RowColumns, updates: Updates, seconds: number | null): Promise<Runs> {
  const map = new Map<number, Account>();
  const insert = await timed(() => insertMap(map, rows, deadlineNs(seconds)));
  const update = await timed(() => updateMap(map, within(updates, insert.ops), deadlineNs(seconds)));
  return { insert, update, updateSync: null };
}

/** Runs every loop on small data, untimed, so the JIT has compiled them. */
async function warmUp(seed: number): Promise<void> {
  const rows = generateRows(WARMUP_OPS, seed);
  const updates: Updates = {
    count: WARMUP_OPS,
    ids: randomIds(WARMUP_OPS, WARMUP_OPS, seed + 1),
    balances: randomBalances(WARMUP_OPS, seed + 2),
  };
  await runMap(rows, updates, null);
  await runTidemark(rows, updates, null);
  collectGarbage();
}

function figures(tm: Runs, map: Runs): Figure[] {
  const target = { on: 'tidemark', compare: 'atLeast', value: TARGET_COMMITS_PER_SECOND } as const;
  const perSecond = (run: Timed | null): number | null => (run === null ? null : rate(run.ops, run.seconds));
  return [
    {
      name: 'insert, autocommit',
      unit: 'commits/s',
      tidemark: perSecond(tm.insert),
      baseline: perSecond(map.insert),
      target,
    },
    {
      name: 'update, autocommit',
      unit: 'commits/s',
      tidemark: perSecond(tm.update),
      baseline: perSecond(map.update),
      target,
    },
    {
      name: 'update, transactionSync',
      unit: 'commits/s',
      tidemark: perSecond(tm.updateSync),
      baseline: perSecond(map.update),
      target,
    },
  ];
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  await warmUp(params.seed);
  const rows = generateRows(params.rows, params.seed);
  const updates: Updates = {
    count: params.ops,
    ids: randomIds(params.ops, params.rows, params.seed + 1),
    balances: randomBalances(params.ops, params.seed + 2),
  };
  log(
    `autocommit: baseline Map, ${params.rows.toLocaleString('en-US')} inserts then ${params.ops.toLocaleString('en-US')} updates`,
  );
  const map = await runMap(rows, updates, params.secondsLimit);
  collectGarbage();
  log('autocommit: Tidemark, the same inserts and updates, then the updates again with transactionSync');
  const tm = await runTidemark(rows, updates, params.secondsLimit);
  collectGarbage();
  return {
    figures: figures(tm, map),
    counts: {
      baselineInserts: map.insert.ops,
      baselineUpdates: map.update.ops,
      tidemarkInserts: tm.insert.ops,
      tidemarkUpdates: tm.update.ops,
      tidemarkSyncUpdates: tm.updateSync?.ops ?? 0,
    },
    notes: [
      'Order: the baseline Map runs first, then Tidemark on a fresh database; the log sink discards (the default).',
      `Autocommit writes are issued ${COMMIT_CHUNK_OPS.toLocaleString('en-US')} at a time and awaited together with Promise.all.`,
      'transactionSync: one db.transactionSync(tx => tx.update(...)) per op, over the same ids as the autocommit updates.',
      'Baseline: map.set(id, new object) per op, synchronous; an update first reads the old object for its name.',
      'Update ids are uniform random over the inserted ids.',
    ],
  };
}

export const autocommitWorkload: Workload = {
  name: 'autocommit',
  description: 'single-row autocommit inserts and updates, and transactionSync updates, per second vs Map.set',
  sizes: { full: { rows: 1_000_000, ops: 1_000_000 }, quick: { rows: 200_000, ops: 200_000 } },
  run,
};
