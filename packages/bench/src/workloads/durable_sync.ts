/**
 * `txnSync`: one durable commit at a time, the way code written for
 * better-sqlite3 commits: `db.transactionSync(fn, { durability: 'durable' })`
 * returns once its commit is fdatasync'd, blocking the thread. In rounds,
 * each round running every side once in the same order on the same disk:
 *
 * - the disk's own write + fdatasync rate (limits/fdatasync.ts), the limit;
 * - Tidemark `transactionSync` durable, one single-row upsert per call;
 * - Tidemark `await table.upsert(row, { durability: 'durable' })`, one in flight;
 * - better-sqlite3 in WAL mode with `synchronous = FULL`, one `INSERT OR
 *   REPLACE` per call (its own transaction, fsync'd before it returns).
 *
 * The figures are the medians of the rounds; every round is in the notes.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import type { Database } from '@tidemark/core';
import { TARGET_SYNC_COMMIT_FDATASYNC_RATIO, TARGET_SYNC_COMMIT_SQLITE_RATIO } from '../constants.js';
import { generateRows, openAccounts, TABLE, type RowColumns } from '../data.js';
import { probeFdatasync } from '../limits/fdatasync.js';
import { median, rate } from '../measure.js';
import type { Workload, WorkloadParams, WorkloadResult } from '../workload.js';

/** Rounds of the four sides; the figures are their medians. */
const ROUNDS = 5;
const SIDES = ['fdatasync', 'transactionSync', 'await upsert', 'sqlite FULL'] as const;
type Side = (typeof SIDES)[number];

/** Commits per second of `n` calls of `commit(i)`, stopping early at `seconds`. */
async function timed(n: number, seconds: number | null, commit: (i: number) => unknown): Promise<number> {
  const started = performance.now();
  const stopAt = seconds === null ? Number.POSITIVE_INFINITY : started + seconds * 1000;
  let i = 0;
  for (; i < n && (i % 64 !== 0 || performance.now() < stopAt); i++) await commit(i);
  return rate(i, (performance.now() - started) / 1000);
}

function openSqlite(dir: string): { db: Sqlite.Database; put: (i: number, rows: RowColumns) => void } {
  const db = new Sqlite(join(dir, 'peer.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance REAL NOT NULL, ts REAL NOT NULL)',
  );
  const upsert = db.prepare('INSERT OR REPLACE INTO accounts (id, name, balance, ts) VALUES (?, ?, ?, ?)');
  return { db, put: (i, rows) => upsert.run(rows.ids[i], rows.names[i], rows.balances[i], rows.tss[i]) };
}

async function measure(base: string, params: WorkloadParams, log: (line: string) => void) {
  const rows = generateRows(params.ops, params.seed);
  const row = (i: number) => ({ id: rows.ids[i]!, name: rows.names[i]!, balance: rows.balances[i]!, ts: rows.tss[i]! });
  mkdirSync(join(base, 'tidemark'));
  mkdirSync(join(base, 'sqlite'));
  const db: Database = await openAccounts(join(base, 'tidemark'));
  const sqlite = openSqlite(join(base, 'sqlite'));
  const runs: Record<Side, number[]> = { fdatasync: [], transactionSync: [], 'await upsert': [], 'sqlite FULL': [] };
  try {
    const table = db.table(TABLE);
    const sides: Record<Side, () => Promise<number>> = {
      fdatasync: async () => {
        const probe = probeFdatasync(base, params.ops, params.secondsLimit);
        return rate(probe.syncs, probe.seconds);
      },
      transactionSync: () =>
        timed(params.ops, params.secondsLimit, (i) =>
          db.transactionSync((tx) => tx.upsert(TABLE, row(i)), { durability: 'durable' }),
        ),
      'await upsert': () =>
        timed(params.ops, params.secondsLimit, (i) => table.upsert(row(i), { durability: 'durable' })),
      'sqlite FULL': () => timed(params.ops, params.secondsLimit, (i) => sqlite.put(i, rows)),
    };
    // A round untimed first, so the JIT has compiled every loop.
    await timed(Math.min(params.ops, 500), null, (i) =>
      db.transactionSync((tx) => tx.upsert(TABLE, row(i)), { durability: 'durable' }),
    );
    await timed(Math.min(params.ops, 500), null, (i) => table.upsert(row(i), { durability: 'durable' }));
    await timed(Math.min(params.ops, 500), null, (i) => sqlite.put(i, rows));
    for (let round = 1; round <= ROUNDS; round++) {
      log(`txnSync: round ${round} of ${ROUNDS}`);
      for (const side of SIDES) runs[side].push(await sides[side]());
    }
  } finally {
    await db.close();
    sqlite.db.close();
  }
  return runs;
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-durable-sync-'));
  let runs: Record<Side, number[]>;
  try {
    runs = await measure(base, params, log);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  const m = (side: Side) => median(runs[side]);
  const list = (side: Side) => runs[side].map((x) => Math.round(x).toLocaleString('en-US')).join(', ');
  return {
    figures: [
      {
        name: 'transactionSync durable, 1 at a time, vs write + fdatasync',
        unit: 'commits/s',
        tidemark: m('transactionSync'),
        baseline: m('fdatasync'),
        target: { on: 'ratio', compare: 'atLeast', value: TARGET_SYNC_COMMIT_FDATASYNC_RATIO },
      },
      {
        name: 'transactionSync durable vs better-sqlite3 synchronous=FULL',
        unit: 'commits/s',
        tidemark: m('transactionSync'),
        baseline: m('sqlite FULL'),
        target: { on: 'ratio', compare: 'atLeast', value: TARGET_SYNC_COMMIT_SQLITE_RATIO },
      },
      {
        name: 'await upsert durable, 1 in flight, vs transactionSync durable',
        unit: 'commits/s',
        tidemark: m('await upsert'),
        baseline: m('transactionSync'),
        target: null,
      },
    ],
    notes: [
      `Files: a temporary folder under ${parent}, removed at the end; rows { id int32, name string(16), balance float64, ts float64 }, single-row upserts of ${params.ops.toLocaleString('en-US')} generated rows.`,
      `${ROUNDS} rounds, each running, in this order, the fdatasync probe, transactionSync, await upsert and SQLite; each loop stops after ${params.ops.toLocaleString('en-US')} commits${params.secondsLimit === null ? '' : ` or ${params.secondsLimit} s`}. Figures are the medians; the rounds, in commits/s:`,
      ...SIDES.map((side) => `  ${side}: ${list(side)}`),
      'transactionSync: db.transactionSync(tx => tx.upsert(...), { durability: "durable" }) returns once the log writer has fdatasync\'d the commit; the thread polls the durable mark for up to 1 ms, then sleeps on it with Atomics.wait.',
      'SQLite: better-sqlite3, journal_mode=WAL, synchronous=FULL, one prepared INSERT OR REPLACE per commit.',
    ],
    counts: { rounds: ROUNDS },
  };
}

export const durableSyncWorkload: Workload = {
  name: 'txnSync',
  description: 'one durable commit at a time with transactionSync vs fdatasync/s and better-sqlite3 FULL',
  baseline: "the disk's fdatasync rate, and better-sqlite3 synchronous=FULL",
  sizes: { full: { rows: 0, ops: 20_000, seconds: 3 }, quick: { rows: 0, ops: 2_000, seconds: 0.5 } },
  run,
};
