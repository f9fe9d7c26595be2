/**
 * `backup`: what an online backup costs the live workload. On a durable
 * table of N rows (5 M full):
 *
 *   1. N accounts rows are built on disk and checkpointed.
 *   2. 256 lanes of durable single-row inserts start (insert_lanes.ts);
 *      after WARM_MS, a window of `seconds` ("before"), then
 *      `db.backup(dest)` into a new folder beside the database, its window
 *      lasting from the call until the promise resolves. The lanes then
 *      stop and the database closes.
 *   3. The copy is opened read-only and its rows counted: it must hold the
 *      N rows and exactly the inserts that resolved with a commitTs up to
 *      the backup's, which include every insert resolved before the call.
 *
 * The figures: commits/s during the backup against before it, and the main
 * thread's event-loop delay (p99 and max) during it against 5 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BackupResult } from '@tidemark/core';
import { EVENT_LOOP_IN_FLIGHT, TARGET_BACKUP_PAUSE_MS, TARGET_COMMITS_DURING_BACKUP_RATIO } from '../constants.js';
import { generateRows, openAccounts, rowAt, TABLE } from '../data.js';
import { collectGarbage, rate } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { fillDurable } from './fill_durable.js';
import { InsertLanes, type LaneWindow } from './insert_lanes.js';

/** Inserts run this long before the "before" window opens (the JIT, the log writer's pace). */
const WARM_MS = 500;

/** Steps 2 and 3. */
interface Measured {
  rows: number;
  inserted: number;
  before: LaneWindow<void>;
  backup: LaneWindow<BackupResult>;
  /** Rows committed (the table's and the inserts resolved) when backup() was called. */
  rowsAtCall: number;
  /** Rows the copy must hold: the table's and the inserts resolved with a commitTs up to the backup's. */
  rowsExpected: number;
  /** Rows the copy, opened read-only, holds. */
  rowsFound: number;
  openSeconds: number;
}

/** Step 3: opens the copy read-only and counts its rows. */
async function countCopy(dest: string): Promise<{ rows: number; seconds: number }> {
  const started = performance.now();
  const copy = await openAccounts(dest, { readOnly: true });
  try {
    return { rows: copy.table(TABLE).size, seconds: (performance.now() - started) / 1000 };
  } finally {
    await copy.close();
  }
}

/** Steps 1 to 3, in `base`. */
async function measure(base: string, params: WorkloadParams, log: (line: string) => void): Promise<Measured> {
  const n = params.rows.toLocaleString('en-US');
  const rows = generateRows(params.rows, params.seed);
  const fresh = generateRows(params.ops, params.seed + 1, params.rows + 1);
  const dest = join(base, 'copy');
  const db = await openAccounts(join(base, 'db'));
  let lanes: InsertLanes;
  let before: LaneWindow<void>;
  let backup: LaneWindow<BackupResult>;
  let rowsAtCall: number;
  let inserted: number;
  try {
    log(`backup: building ${n} rows on disk`);
    await fillDurable(db, 0, params.rows, (i) => rowAt(rows, i));
    await db.checkpoint();
    collectGarbage();
    lanes = new InsertLanes(db.table(TABLE), fresh, EVENT_LOOP_IN_FLIGHT);
    log(`backup: durable inserts, ${EVENT_LOOP_IN_FLIGHT} in flight, ${params.secondsLimit ?? 0} s before the backup`);
    lanes.start();
    try {
      await sleep(WARM_MS);
      before = await lanes.during(() => sleep((params.secondsLimit ?? 0) * 1000));
      log(`backup: db.backup() of ${n} rows, the inserts going on`);
      rowsAtCall = params.rows + lanes.committed;
      backup = await lanes.during(() => db.backup(dest));
      inserted = await lanes.stop();
    } finally {
      await lanes.stop().catch(() => {});
    }
  } finally {
    await db.close();
  }
  const rowsExpected = params.rows + lanes.committedUpTo(backup.result.commitTs);
  log(`backup: opening the copy read-only`);
  const copy = await countCopy(dest);
  return {
    rows: params.rows,
    inserted,
    before,
    backup,
    rowsAtCall,
    rowsExpected,
    rowsFound: copy.rows,
    openSeconds: copy.seconds,
  };
}

function figures(m: Measured): Figure[] {
  const n = `${(m.rows / 1e6).toLocaleString('en-US')} M rows`;
  const k = `${EVENT_LOOP_IN_FLIGHT} in flight`;
  const ranOut = m.before.ranOut || m.backup.ranOut;
  const { bytes } = m.backup.result;
  return [
    {
      name: `db.backup() of ${n}: durable inserts, ${k}, during the backup vs before it`,
      unit: 'commits/s',
      tidemark: ranOut ? null : rate(m.backup.commits, m.backup.seconds),
      baseline: ranOut ? null : rate(m.before.commits, m.before.seconds),
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_COMMITS_DURING_BACKUP_RATIO },
    },
    {
      name: `db.backup(): event-loop delay max (the longest pause), inserts ${k}, during the backup vs before it`,
      unit: 'ms',
      tidemark: m.backup.loopDelayMaxMs,
      baseline: m.before.loopDelayMaxMs,
      target: { on: 'tidemark', compare: 'atMost', value: TARGET_BACKUP_PAUSE_MS },
    },
    {
      name: `db.backup(): event-loop delay p99, inserts ${k}, during the backup vs before it`,
      unit: 'ms',
      tidemark: m.backup.loopDelayP99Ms,
      baseline: m.before.loopDelayP99Ms,
      target: { on: 'tidemark', compare: 'atMost', value: TARGET_BACKUP_PAUSE_MS },
    },
    {
      name: `db.backup(): durable insert latency p99, ${k}, during the backup vs before it`,
      unit: 'ms',
      tidemark: m.backup.latency.p99Ms,
      baseline: m.before.latency.p99Ms,
      target: null,
    },
    {
      name: `db.backup() of ${n}: duration, call to resolve`,
      unit: 's',
      tidemark: m.backup.seconds,
      baseline: null,
      target: null,
    },
    {
      name: `db.backup() of ${n}: bytes written to the copy (hard-linked files included) per second of the backup`,
      unit: 'MB/s',
      tidemark: bytes / 1e6 / m.backup.seconds,
      baseline: null,
      target: null,
    },
    {
      name: `the copy, opened read-only: rows found vs rows committed up to the backup's commitTs`,
      unit: 'rows',
      tidemark: m.rowsFound,
      baseline: m.rowsExpected,
      target: { on: 'ratio', compare: 'atLeast', value: 1 },
    },
  ];
}

function notes(m: Measured): string[] {
  const count = (x: number): string => x.toLocaleString('en-US');
  const { commitTs, files, bytes } = m.backup.result;
  const exact = m.rowsFound === m.rowsExpected;
  return [
    `Before the backup (${m.before.seconds.toFixed(2)} s, after ${WARM_MS} ms of inserts) ${count(m.before.commits)} commits, latency p50 ${m.before.latency.p50Ms.toFixed(3)} ms, p99 ${m.before.latency.p99Ms.toFixed(3)} ms, event-loop delay p99 ${m.before.loopDelayP99Ms.toFixed(2)} ms, max ${m.before.loopDelayMaxMs.toFixed(2)} ms; during it (${m.backup.seconds.toFixed(2)} s) ${count(m.backup.commits)} commits, p50 ${m.backup.latency.p50Ms.toFixed(3)} ms, p99 ${m.backup.latency.p99Ms.toFixed(3)} ms, event-loop delay p99 ${m.backup.loopDelayP99Ms.toFixed(2)} ms, max ${m.backup.loopDelayMaxMs.toFixed(2)} ms; ${count(m.inserted)} rows inserted in all.`,
    `The backup: commitTs ${commitTs}, ${count(files)} files, ${count(bytes)} bytes (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${m.backup.seconds.toFixed(2)} s. Opened read-only in ${m.openSeconds.toFixed(2)} s, it holds ${count(m.rowsFound)} rows: ${exact ? 'exactly' : 'NOT'} the ${count(m.rowsExpected)} committed up to its commitTs (${count(m.rowsAtCall)} were committed when backup() was called).`,
    ...(m.before.ranOut || m.backup.ranOut
      ? ['The inserts ran out of rows before the backup ended, so the commit rates are not reported: raise --ops.']
      : []),
  ];
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-backup-'));
  try {
    const m = await measure(base, params, log);
    return {
      figures: figures(m),
      notes: [
        `Files in ${parent}; the copy goes to a new folder beside the database, on the same file system (so closed data files can be hard-linked). Rows are { id int32, name string(16), balance float64, ts float64 }, built in transactionSync batches and checkpointed. Inserts are single-row and durable, ${EVENT_LOOP_IN_FLIGHT} lanes each keeping one in flight; the event loop is sampled every 1 ms (monitorEventLoopDelay) in each window.`,
        ...notes(m),
      ],
      counts: {
        tableRows: m.rows,
        rowsInserted: m.inserted,
        commitsBefore: m.before.commits,
        commitsDuringBackup: m.backup.commits,
        backupBytes: m.backup.result.bytes,
        backupFiles: m.backup.result.files,
        copyRows: m.rowsFound,
        copyRowsExpected: m.rowsExpected,
      },
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export const backupWorkload: Workload = {
  name: 'backup',
  description:
    'db.backup() of a durable table under durable inserts at 256 in flight: commits/s and event-loop delay during vs before; duration and bytes; the copy opens read-only with the rows of its commitTs',
  baseline: 'the inserts before the backup (commits, delay); the rows committed up to its commitTs (the copy)',
  // ops: rows the inserts may use; seconds: the "before" window.
  sizes: {
    full: { rows: 5_000_000, ops: 4_000_000, seconds: 5 },
    quick: { rows: 100_000, ops: 500_000, seconds: 0.5 },
  },
  run,
};
