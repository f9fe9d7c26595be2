/**
 * `durable`: what a commit costs once it must reach the disk, measured next
 * to the limits it is judged against, in one run on one folder:
 *
 * - the disk's own fdatasync rate (limits/fdatasync.ts), the baseline of
 *   every durable figure: syncs/s for throughput, one write + fdatasync for
 *   latency;
 * - durable single-row inserts with 1, 16, 256 and 4,096 kept in flight:
 *   commits/s and latency p50/p99/p99.9;
 * - delayed-durability inserts against the very same loop on a database
 *   opened without a folder (the in-memory rate);
 * - the main thread's event-loop delay while 256 durable commits are in
 *   flight, against the idle loop.
 *
 * Every sub-measurement opens a fresh database in a folder of its own, so
 * inserts of ids 1..N never collide; the run's temporary folder is removed
 * at the end, whatever happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '@tidemark/core';
import { DURABLE_IN_FLIGHT, EVENT_LOOP_IDLE_MS, EVENT_LOOP_IN_FLIGHT, WARMUP_OPS } from '../constants.js';
import { generateRows, openAccounts, TABLE, type RowColumns } from '../data.js';
import { probeFdatasync, type SyncProbe } from '../limits/fdatasync.js';
import { collectGarbage, latencyHistogram, latencySummary, type LatencySummary } from '../measure.js';
import type { Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { durableFigures, durableNotes } from './durable_report.js';
import { insertDelayed, insertInFlight, withEventLoopDelay, type Timed } from './durable_loops.js';

/** One in-flight level: its commits, and their latency. */
export interface DurableRun {
  inFlight: number;
  timed: Timed;
  latency: LatencySummary;
  /** The main thread's event-loop delay p99 during the inserts, where it was watched. */
  loopDelayP99Ms: number | null;
}

/** Everything the workload measured, for the figures. */
export interface DurableMeasurements {
  sync: SyncProbe;
  durable: DurableRun[];
  inMemory: Timed;
  delayed: Timed;
  /** Event-loop delay p99 in ms: idle, and during the EVENT_LOOP_IN_FLIGHT run. */
  idleLoopDelayMs: number;
  busyLoopDelayMs: number | null;
}

/** Opens the accounts table (in `dir`, or in memory when null), runs `fn`, closes, removes `dir`. */
async function withDatabase<T>(dir: string | null, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openAccounts(dir ?? undefined);
  try {
    return await fn(db);
  } finally {
    await db.close();
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One in-flight level on a fresh database. With `watchLoop`, the event-loop
 * delay is sampled around the inserts alone, not the open and close.
 */
async function measureInFlight(
  dir: string,
  rows: RowColumns,
  inFlight: number,
  seconds: number | null,
  watchLoop: boolean,
): Promise<DurableRun> {
  const histogram = latencyHistogram();
  const loop = (db: Database): Promise<Timed> => insertInFlight(db.table(TABLE), rows, inFlight, seconds, histogram);
  return withDatabase(dir, async (db) => {
    if (!watchLoop)
      return { inFlight, timed: await loop(db), latency: latencySummary(histogram), loopDelayP99Ms: null };
    const watched = await withEventLoopDelay(() => loop(db));
    return { inFlight, timed: watched.result, latency: latencySummary(histogram), loopDelayP99Ms: watched.p99Ms };
  });
}

/** Runs the durable and in-memory loops on a few rows, untimed, so the JIT has compiled them. */
async function warmUp(base: string, rows: RowColumns): Promise<void> {
  await measureInFlight(join(base, 'warm-up'), rows, EVENT_LOOP_IN_FLIGHT, null, true);
  await withDatabase(null, (db) => insertDelayed(db, rows, null));
  collectGarbage();
}

async function measureAll(
  base: string,
  params: WorkloadParams,
  log: (line: string) => void,
): Promise<DurableMeasurements> {
  const rows = generateRows(params.ops, params.seed);
  await warmUp(base, generateRows(Math.min(params.ops, WARMUP_OPS), params.seed));
  log(`durable: the disk's fdatasync rate, in ${base}`);
  const sync = probeFdatasync(base, params.ops, params.secondsLimit);
  const idle = await withEventLoopDelay(() => sleep(EVENT_LOOP_IDLE_MS));
  const durable: DurableRun[] = [];
  for (const inFlight of DURABLE_IN_FLIGHT) {
    log(`durable: inserts with ${inFlight.toLocaleString('en-US')} in flight`);
    const dir = join(base, `in-flight-${inFlight}`);
    durable.push(await measureInFlight(dir, rows, inFlight, params.secondsLimit, inFlight === EVENT_LOOP_IN_FLIGHT));
    collectGarbage();
  }
  log('durable: delayed-durability inserts, in memory then on disk');
  const inMemory = await withDatabase(null, (db) => insertDelayed(db, rows, params.secondsLimit));
  collectGarbage();
  const delayed = await withDatabase(join(base, 'delayed'), (db) => insertDelayed(db, rows, params.secondsLimit));
  collectGarbage();
  const busyLoopDelayMs = durable.find((r) => r.loopDelayP99Ms !== null)?.loopDelayP99Ms ?? null;
  return { sync, durable, inMemory, delayed, idleLoopDelayMs: idle.p99Ms, busyLoopDelayMs };
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-durable-'));
  let m: DurableMeasurements;
  try {
    m = await measureAll(base, params, log);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  const counts: Record<string, number> = {
    fdatasyncs: m.sync.syncs,
    inMemoryCommits: m.inMemory.ops,
    delayedCommits: m.delayed.ops,
  };
  for (const r of m.durable) counts[`durableCommits${r.inFlight}InFlight`] = r.timed.ops;
  return { figures: durableFigures(m), notes: durableNotes(parent, params), counts };
}

export const durableWorkload: Workload = {
  name: 'durable',
  description: 'durable commits/s and latency at 1..4,096 in flight vs fdatasync/s; delayed vs in-memory',
  baseline: "the disk's fdatasync rate (durable rows), the in-memory rate (delayed)",
  // Durable loops run at the disk's pace, so each also stops after `seconds`.
  sizes: { full: { rows: 0, ops: 1_000_000, seconds: 5 }, quick: { rows: 0, ops: 100_000, seconds: 1.5 } },
  run,
};
