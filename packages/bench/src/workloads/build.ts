/**
 * `build`: how fast a table of N rows is built, and what it costs per row.
 *
 * The baseline runs first: `map.set(id, {id, name, balance, ts})` in a loop.
 * Then, after the Map is freed and garbage collected, Tidemark inserts the
 * same rows in `db.transactionSync` batches of BUILD_BATCH_ROWS.
 *
 * Memory per row, all samples after forced GC: heapUsed + external +
 * arrayBuffers growth from before the input rows are generated to after the
 * build with the input freed (the Map keeps the name strings of its input,
 * its objects point at them, and so pays for them; Tidemark copies the names
 * into its arena and keeps nothing of the input); and resident set growth
 * across the build alone, the input held, so that pages the allocator keeps
 * after freeing the input do not count.
 */
import type { Database } from '@tidemark/core';
import { BUILD_BATCH_ROWS, TARGET_BUILD_SPEEDUP, TARGET_BYTES_PER_ROW, WARMUP_OPS } from '../constants.js';
import { generateRows, openAccounts, rowAt, TABLE, type Account, type RowColumns } from '../data.js';
import {
  collectGarbage,
  deadlineNs,
  jsBytesPerRow,
  nowNs,
  pastDeadline,
  rate,
  rssBytesPerRow,
  sampleMemory,
  secondsSince,
} from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';

interface BuildRun {
  rows: number;
  seconds: number;
  /** heapUsed + external + arrayBuffers growth per row, from before the input to after it is freed. */
  jsBytesPerRow: number;
  /** Resident set growth per row over the build alone, the input held throughout. */
  rssBytesPerRow: number;
}

interface TidemarkBuildRun extends BuildRun {
  /** Tidemark's own accounting, bytes per row. */
  reservedPerRow: number;
  inUsePerRow: number;
}

/** Fills `map` with rows [0, count) or until the deadline; returns the rows set. */
function fillMap(map: Map<number, Account>, rows: RowColumns, count: number, deadline: bigint | null): number {
  let i = 0;
  while (i < count) {
    const end = Math.min(count, i + BUILD_BATCH_ROWS);
    for (; i < end; i++) map.set(rows.ids[i]!, rowAt(rows, i));
    if (pastDeadline(deadline)) break;
  }
  return i;
}

/** Inserts rows [0, count) in batches, or until the deadline; returns the rows inserted. */
export function fillTable(db: Database, rows: RowColumns, count: number, deadline: bigint | null): number {
  let i = 0;
  while (i < count) {
    const start = i;
    const end = Math.min(count, i + BUILD_BATCH_ROWS);
    db.transactionSync((tx) => {
      for (let j = start; j < end; j++) tx.insert(TABLE, rowAt(rows, j));
    });
    i = end;
    if (pastDeadline(deadline)) break;
  }
  return i;
}

/**
 * Generates the input and builds from it, timed; then measures memory. The
 * input lives only in this function's frame, so it is freed once the
 * function returns. Samples around the build itself, the input held, give
 * the resident set growth without the pages the freed input leaves behind.
 */
async function timedBuild(
  params: WorkloadParams,
  fill: (input: RowColumns, deadline: bigint | null) => number,
): Promise<{ rows: number; seconds: number; rssBytesPerRow: number }> {
  const input = generateRows(params.rows, params.seed);
  const held = await sampleMemory();
  const deadline = deadlineNs(params.secondsLimit);
  const started = nowNs();
  const rows = fill(input, deadline);
  const seconds = secondsSince(started);
  const built = await sampleMemory();
  if (input.count !== params.rows) throw new Error('build: the input changed size');
  return { rows, seconds, rssBytesPerRow: rssBytesPerRow(held, built, rows) };
}

async function buildMap(params: WorkloadParams): Promise<BuildRun> {
  const before = await sampleMemory();
  const map = new Map<number, Account>();
  const run = await timedBuild(params, (input, deadline) => fillMap(map, input, params.rows, deadline));
  const after = await sampleMemory();
  // The Map must still be reachable when `after` is sampled.
  if (map.size !== run.rows) throw new Error(`build: the Map holds ${map.size} rows, expected ${run.rows}`);
  map.clear();
  return { ...run, jsBytesPerRow: jsBytesPerRow(before, after, run.rows) };
}

async function buildTidemark(params: WorkloadParams): Promise<TidemarkBuildRun> {
  const before = await sampleMemory();
  const db = await openAccounts();
  const run = await timedBuild(params, (input, deadline) => fillTable(db, input, params.rows, deadline));
  const after = await sampleMemory();
  const stats = db.stats().tables[0]!;
  if (stats.rows !== run.rows) throw new Error(`build: the table holds ${stats.rows} rows, expected ${run.rows}`);
  await db.close();
  return {
    ...run,
    jsBytesPerRow: jsBytesPerRow(before, after, run.rows),
    reservedPerRow: (stats.reservedBytes + stats.indexBytes) / run.rows,
    inUsePerRow: (stats.bytesInUse + stats.indexBytes) / run.rows,
  };
}

/** Builds a small table on both sides, untimed, so the JIT has compiled both loops. */
async function warmUp(seed: number): Promise<void> {
  const input = generateRows(WARMUP_OPS, seed);
  fillMap(new Map(), input, WARMUP_OPS, null);
  const db = await openAccounts();
  fillTable(db, input, WARMUP_OPS, null);
  await db.close();
  collectGarbage();
}

function figures(map: BuildRun, tm: TidemarkBuildRun): Figure[] {
  const bytes = { on: 'tidemark', compare: 'atMost', value: TARGET_BYTES_PER_ROW } as const;
  return [
    {
      name: 'build rate',
      unit: 'rows/s',
      tidemark: rate(tm.rows, tm.seconds),
      baseline: rate(map.rows, map.seconds),
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_BUILD_SPEEDUP },
    },
    { name: 'build time', unit: 's', tidemark: tm.seconds, baseline: map.seconds, target: null },
    {
      name: 'heap+external+arrayBuffers/row',
      unit: 'B/row',
      tidemark: tm.jsBytesPerRow,
      baseline: map.jsBytesPerRow,
      target: bytes,
    },
    {
      name: 'rss growth over build/row',
      unit: 'B/row',
      tidemark: tm.rssBytesPerRow,
      baseline: map.rssBytesPerRow,
      target: bytes,
    },
    { name: 'stats (reserved+index)/row', unit: 'B/row', tidemark: tm.reservedPerRow, baseline: null, target: bytes },
    { name: 'stats (inUse+index)/row', unit: 'B/row', tidemark: tm.inUsePerRow, baseline: null, target: bytes },
  ];
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  await warmUp(params.seed);
  log(`build: baseline Map of ${params.rows.toLocaleString('en-US')} rows`);
  const map = await buildMap(params);
  collectGarbage();
  log(
    `build: Tidemark table of ${params.rows.toLocaleString('en-US')} rows, batches of ${BUILD_BATCH_ROWS.toLocaleString('en-US')}`,
  );
  const tm = await buildTidemark(params);
  collectGarbage();
  return {
    figures: figures(map, tm),
    counts: { baselineRows: map.rows, tidemarkRows: tm.rows },
    notes: [
      'Order: the baseline Map runs first and is freed (and GC run) before Tidemark builds.',
      `Tidemark inserts in db.transactionSync batches of ${BUILD_BATCH_ROWS.toLocaleString('en-US')} rows; the log sink discards (the default).`,
      'heap+external+arrayBuffers: growth (after forced GC) from before the input is generated to after the build, input freed;',
      '  the Map pays for its name strings. Node counts ordinary ArrayBuffers (the primary index) in both external and',
      '  arrayBuffers and SharedArrayBuffers (the arena) in arrayBuffers only, so this overstates Tidemark by up to the index.',
      'rss growth: across the timed build alone, the input held (so freed input pages do not count), after forced GC;',
      "  the Map's excludes its name strings, which belong to the input.",
      "stats figures are Tidemark's own accounting from db.stats() (arena bytes reserved or in use, plus primary index bytes).",
    ],
  };
}

export const buildWorkload: Workload = {
  name: 'build',
  description: 'build a table of --rows rows: Tidemark in transactionSync batches vs Map.set; time and memory per row',
  sizes: { full: { rows: 5_000_000, ops: 0 }, quick: { rows: 500_000, ops: 0 } },
  run,
};
