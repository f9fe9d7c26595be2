/**
 * `iterate`: `table.iterate()` against `table.scan()` over every row of an
 * in-memory table of N rows (1 M full): rows per second, and peak heap.
 *
 * Rate: each loop takes every row and adds up the balances (the sums and
 * the row counts are checked equal); scan's time counts the scan() call and
 * the walk over its array. ROUNDS turns of each in alternation, after an
 * untimed turn of each; the medians are the figures.
 *
 * Peak heap, in passes of their own (not timed), each starting after a
 * forced collection; the heap is heapUsed + arrayBuffers (iterate holds its
 * row pointers in a Uint32Array, outside the JS heap):
 * - live: sampled SAMPLES times along the walk, each sample after a forced
 *   collection, so it counts what the loop keeps alive (for scan, its array
 *   of rows; for iterate, its snapshot's pointers), not garbage waiting
 *   for the next scavenge; the largest growth over the start is the figure,
 *   with the target;
 * - reached: sampled every RAW_EVERY rows without collecting, garbage
 *   included: how far the heap actually grew (no target).
 */
import type { Table } from '@tidemark/core';
import { TARGET_ITERATE_HEAP_RATIO, TARGET_ITERATE_RATE_RATIO } from '../constants.js';
import { generateRows, openAccounts, TABLE } from '../data.js';
import { collectGarbage, gcExposed, median, rate } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { fillTable } from './build.js';

/** Timed turns of each loop; the median is the figure. */
const ROUNDS = 3;
/** Samples of the live heap along one walk, each after a forced collection. */
const SAMPLES = 8;
/** Rows between two samples of the heap reached, garbage included. */
const RAW_EVERY = 1024;
const MiB = 1024 * 1024;

type Way = 'iterate' | 'scan';

/** Rows taken and the balances' sum. */
interface Walk {
  rows: number;
  sum: number;
}

/** Bytes of the JS heap and of ArrayBuffers (shared ones included), no collection. */
function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Walks every row one way, calling `sample(i)` after taking row i. The two
 * ways differ only in where the rows come from.
 */
function walk(table: Table, way: Way, sample: ((i: number) => void) | null): Walk {
  let rows = 0;
  let sum = 0;
  if (way === 'iterate') {
    for (const row of table.iterate()) {
      sum += row.balance as number;
      if (sample !== null) sample(rows);
      rows++;
    }
  } else {
    const all = table.scan();
    for (; rows < all.length; rows++) {
      sum += all[rows]!.balance as number;
      if (sample !== null) sample(rows);
    }
  }
  return { rows, sum };
}

/** Rows/s of one timed walk. */
function timedWalk(table: Table, way: Way): { rate: number; walk: Walk } {
  const started = performance.now();
  const w = walk(table, way, null);
  return { rate: rate(w.rows, (performance.now() - started) / 1000), walk: w };
}

/** Peak growth of the heap over a walk, in bytes: live (collected before each sample) or reached (never collected). */
function peakHeap(table: Table, way: Way, live: boolean, count: number): number {
  const every = live ? Math.max(1, Math.ceil(count / SAMPLES)) : RAW_EVERY;
  collectGarbage();
  const start = heapBytes();
  let peak = 0;
  walk(table, way, (i) => {
    if (i % every !== 0) return;
    if (live) collectGarbage();
    peak = Math.max(peak, heapBytes() - start);
  });
  return peak;
}

interface Measured {
  iterate: number[];
  scan: number[];
  heap: Record<Way, { live: number; reached: number }>;
}

function measure(table: Table, count: number): Measured {
  const check = timedWalk(table, 'scan').walk;
  const first = timedWalk(table, 'iterate').walk;
  if (first.rows !== count || first.rows !== check.rows || first.sum !== check.sum)
    throw new Error(`iterate: ${first.rows} rows summing to ${first.sum}, scan ${check.rows} summing to ${check.sum}`);
  const runs: Record<Way, number[]> = { iterate: [], scan: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const way of ['iterate', 'scan'] as const) {
      collectGarbage();
      runs[way].push(timedWalk(table, way).rate);
    }
  }
  const heapOf = (way: Way): { live: number; reached: number } => ({
    live: peakHeap(table, way, true, count),
    reached: peakHeap(table, way, false, count),
  });
  return { iterate: runs.iterate, scan: runs.scan, heap: { iterate: heapOf('iterate'), scan: heapOf('scan') } };
}

function figures(m: Measured, count: number): Figure[] {
  const n = `${(count / 1e6).toLocaleString('en-US')} M rows`;
  return [
    {
      name: `iterate vs scan, every row of ${n}`,
      unit: 'rows/s',
      tidemark: median(m.iterate),
      baseline: median(m.scan),
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_ITERATE_RATE_RATIO },
    },
    {
      name: `iterate vs scan: peak heap kept alive (sampled after forced collections)`,
      unit: 'MiB',
      tidemark: m.heap.iterate.live / MiB,
      baseline: m.heap.scan.live / MiB,
      target: { on: 'ratio', compare: 'atMost', value: TARGET_ITERATE_HEAP_RATIO },
    },
    {
      name: `iterate vs scan: peak heap reached, garbage included`,
      unit: 'MiB',
      tidemark: m.heap.iterate.reached / MiB,
      baseline: m.heap.scan.reached / MiB,
      target: null,
    },
  ];
}

function notes(m: Measured, count: number): string[] {
  const list = (values: number[]): string => values.map((v) => Math.round(v).toLocaleString('en-US')).join(', ');
  return [
    `An in-memory table of ${count.toLocaleString('en-US')} rows { id int32, name string(16), balance float64, ts float64 }, built in transactionSync batches; the generated input freed before measuring. Both walks take whole rows, without an index (iterate gathers the visible row pointers of its snapshot at once, 4 bytes a row, and decodes each row as it is taken).`,
    `Rate: ${ROUNDS} turns of each in alternation, after an untimed turn of each (whose row counts and sums are checked equal); a forced collection before each turn. Rows/s of each turn: iterate ${list(m.iterate)}; scan ${list(m.scan)}.`,
    `Heap is heapUsed + arrayBuffers, growth over the start of the walk (after a forced collection). Kept alive: the largest of ${SAMPLES} samples along the walk, each after a forced collection (for scan its array of rows is alive throughout). Reached: sampled every ${RAW_EVERY.toLocaleString('en-US')} rows without collecting.${gcExposed() ? '' : ' global.gc was not exposed, so the "kept alive" figures include garbage.'}`,
  ];
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const db = await openAccounts();
  try {
    log(`iterate: loading ${params.rows.toLocaleString('en-US')} rows`);
    fillTable(db, generateRows(params.rows, params.seed), params.rows, null);
    collectGarbage();
    log(`iterate: iterate and scan, ${ROUNDS} turns each, then their heap`);
    const m = measure(db.table(TABLE), params.rows);
    return { figures: figures(m, params.rows), notes: notes(m, params.rows), counts: { tableRows: params.rows } };
  } finally {
    await db.close();
  }
}

export const iterateWorkload: Workload = {
  name: 'iterate',
  description: 'table.iterate() vs table.scan() over every row: rows/s and peak heap',
  baseline: 'table.scan()',
  sizes: { full: { rows: 1_000_000, ops: 0 }, quick: { rows: 200_000, ops: 0 } },
  run,
};
