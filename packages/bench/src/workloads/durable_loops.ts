/**
 * The measured loops of the `durable` workload. Each loop inserts rows
 * 0..count-1 of `rows` into a table that does not hold them yet, and stops
 * early once its time limit has passed; it reports how many commits it ran.
 */
import type { Database, Table } from '@tidemark/core';
import type { Histogram } from 'hdr-histogram-js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { COMMIT_CHUNK_OPS, EVENT_LOOP_RESOLUTION_MS } from '../constants.js';
import { rowAt, TABLE, type Account, type RowColumns } from '../data.js';
import { recordMs } from '../measure.js';

/** How many commits a loop ran, and in how long. */
export interface Timed {
  ops: number;
  seconds: number;
}

/** What the lanes of one in-flight loop share: the next row to insert, and whether to stop. */
interface Lanes {
  next: number;
  stopped: boolean;
  readonly count: number;
  /** performance.now() after which no lane starts another commit. */
  readonly stopAt: number;
}

/**
 * One lane keeps one commit in flight: when its commit resolves it records
 * the latency and starts the next. K lanes keep exactly K commits in flight
 * until the rows run out or time is up.
 */
async function lane(t: Table, rows: RowColumns, lanes: Lanes, histogram: Histogram): Promise<void> {
  while (lanes.next < lanes.count && !lanes.stopped) {
    const row: Account = rowAt(rows, lanes.next++);
    const started = performance.now();
    await t.insert(row);
    const done = performance.now();
    recordMs(histogram, done - started);
    if (done >= lanes.stopAt) lanes.stopped = true;
  }
}

/**
 * Durable single-row inserts with `inFlight` outstanding at all times;
 * each commit's latency, from the call to the resolution of its promise,
 * goes into `histogram`.
 */
export async function insertInFlight(
  t: Table,
  rows: RowColumns,
  inFlight: number,
  seconds: number | null,
  histogram: Histogram,
): Promise<Timed> {
  const started = performance.now();
  const lanes: Lanes = {
    next: 0,
    stopped: false,
    count: rows.count,
    stopAt: seconds === null ? Infinity : started + seconds * 1000,
  };
  const running = new Array<Promise<void>>(Math.min(inFlight, rows.count));
  for (let i = 0; i < running.length; i++) running[i] = lane(t, rows, lanes, histogram);
  await Promise.all(running);
  return { ops: lanes.next, seconds: (performance.now() - started) / 1000 };
}

/**
 * Delayed-durability inserts, issued COMMIT_CHUNK_OPS at a time and awaited
 * together, then one db.flush(): the time counts until every commit is
 * durable (on a database without a folder, until flush returns).
 */
export async function insertDelayed(db: Database, rows: RowColumns, seconds: number | null): Promise<Timed> {
  const t = db.table(TABLE);
  const options = { durability: 'delayed' } as const;
  const pending = new Array<Promise<number>>(COMMIT_CHUNK_OPS);
  const started = performance.now();
  const stopAt = seconds === null ? Infinity : started + seconds * 1000;
  let i = 0;
  while (i < rows.count) {
    const end = Math.min(rows.count, i + COMMIT_CHUNK_OPS);
    pending.length = end - i;
    for (let k = 0; i < end; i++, k++) pending[k] = t.insert(rowAt(rows, i), options);
    await Promise.all(pending);
    if (performance.now() >= stopAt) break;
  }
  await db.flush();
  return { ops: i, seconds: (performance.now() - started) / 1000 };
}

/**
 * Runs `fn` with the main thread's event-loop delay sampled every
 * EVENT_LOOP_RESOLUTION_MS; returns its result and the delay's p99 in ms.
 */
export async function withEventLoopDelay<T>(fn: () => Promise<T>): Promise<{ result: T; p99Ms: number }> {
  const monitor = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  monitor.enable();
  let result: T;
  try {
    result = await fn();
  } finally {
    monitor.disable();
  }
  return { result, p99Ms: monitor.percentile(99) / 1e6 };
}
