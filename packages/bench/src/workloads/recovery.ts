/**
 * `recovery`: how fast a database comes back. A directory is built with N
 * accounts rows, 20% of them deleted after the load (so the delta files
 * filter), and closed (a final checkpoint: everything is in checkpoint file
 * pairs, the WAL tail is empty). Then, in one run on the same files:
 *
 * - the floor: the pair files read start to end with plain sequential reads;
 * - open() with 1 recovery worker, and with one per core: the time until
 *   open() resolves, when every row is readable by key (a sample of keys is
 *   read back to check it).
 *
 * Before each read the page cache is dropped where the machine permits it
 * (cold); otherwise every read is warm, and the notes say which. A full run
 * measures 1 M and 5 M rows; the target is 5 M in 1.5 s, scaled linearly
 * for other sizes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type CheckpointLoad } from '@tidemark/core';
import { BUILD_BATCH_ROWS } from '../constants.js';
import { ACCOUNTS, generateRows, prng, rowAt, TABLE } from '../data.js';
import { dropCaches, probeSequentialRead, type ReadProbe } from '../limits/seq_read.js';
import { collectGarbage } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';

const MiB = 1024 * 1024;
const DELETED_FRACTION = 0.2;
const TARGET_SECONDS_PER_5M = 1.5;
const TARGET_READ_RATIO = 0.5;
const CHECKED_KEYS = 10_000;
/** The build waits for the log every this many batches. */
const FLUSH_EVERY_BATCHES = 50;

interface Recovered {
  /** The option given (null: the default) and the workers it used. */
  option: number | null;
  workers: number;
  seconds: number;
  load: CheckpointLoad;
  rows: number;
}

interface Built {
  kept: Int32Array;
  /** The pair files and their valid lengths (what recovery reads). */
  files: Array<{ path: string; bytes: number }>;
}

/** Builds the directory: N rows in batches, 20% deleted, checkpointed, closed. */
async function buildDir(dir: string, count: number, seed: number): Promise<Built> {
  const rows = generateRows(count, seed);
  const db = await open({ dir, tables: [ACCOUNTS], durability: 'delayed' });
  try {
    for (let i = 0; i < count; i += BUILD_BATCH_ROWS) {
      const end = Math.min(count, i + BUILD_BATCH_ROWS);
      db.transactionSync((tx) => {
        for (let j = i; j < end; j++) tx.insert(TABLE, rowAt(rows, j));
      });
      if ((i / BUILD_BATCH_ROWS) % FLUSH_EVERY_BATCHES === 0) await db.flush(); // stay inside the log's backlog bound
    }
    const next = prng(seed ^ 0x5eed);
    const kept: number[] = [];
    let batch: number[] = [];
    let flushed = 0;
    const flush = (): void => {
      const ids = batch;
      db.transactionSync((tx) => ids.forEach((id) => tx.delete(TABLE, id)));
      batch = [];
    };
    for (let i = 0; i < count; i++) {
      if (next() / 2 ** 32 < DELETED_FRACTION) batch.push(rows.ids[i]!);
      else kept.push(rows.ids[i]!);
      if (batch.length === BUILD_BATCH_ROWS) {
        flush();
        if (++flushed % FLUSH_EVERY_BATCHES === 0) await db.flush();
      }
    }
    if (batch.length > 0) flush();
    await db.checkpoint();
    const files = (await db.checkpointFiles())
      .filter((f) => (f.kind === 'data' || f.kind === 'delta') && f.rows !== null && f.usedBytes !== null && f.state !== 'PRECREATED')
      .map((f) => ({ path: join(dir, f.file), bytes: f.usedBytes! }));
    return { kept: Int32Array.from(kept), files };
  } finally {
    await db.close();
  }
}

async function recover(dir: string, option: number | null, kept: Int32Array, seed: number): Promise<Recovered> {
  const started = performance.now();
  const db = await open(option === null ? { dir } : { dir, recoveryWorkers: option });
  const seconds = (performance.now() - started) / 1000;
  try {
    const table = db.table(TABLE);
    const next = prng(seed);
    for (let i = 0; i < CHECKED_KEYS; i++) {
      const id = kept[next() % kept.length]!;
      if (table.get(id) === undefined) throw new Error(`recovery lost row ${id}`);
    }
    const rows = db.stats().tables[0]!.rows;
    if (rows !== kept.length) throw new Error(`recovered ${rows} rows, ${kept.length} expected`);
    const load = db.recovery!.checkpoint!;
    return { option, workers: load.workers, seconds, load, rows };
  } finally {
    await db.close();
  }
}

interface SizeRun {
  count: number;
  floor: ReadProbe;
  one: Recovered;
  all: Recovered;
  byDefault: Recovered;
}

async function measureSize(base: string, count: number, seed: number, cold: boolean, log: (line: string) => void): Promise<SizeRun> {
  const dir = join(base, `rows-${count}`);
  log(`recovery: building ${count.toLocaleString('en-US')} rows, deleting ${DELETED_FRACTION * 100}%`);
  const { kept, files } = await buildDir(dir, count, seed);
  collectGarbage();
  if (cold) dropCaches();
  log('recovery: the floor, plain sequential reads of the pair files (their valid lengths)');
  const floor = probeSequentialRead(files);
  if (cold) dropCaches();
  log('recovery: open with 1 worker');
  const one = await recover(dir, 1, kept, seed);
  collectGarbage();
  const cores = availableParallelism();
  if (cold) dropCaches();
  log(`recovery: open with ${cores} workers`);
  const all = await recover(dir, cores, kept, seed);
  collectGarbage();
  if (cold) dropCaches();
  log('recovery: open with the default recovery workers');
  const byDefault = await recover(dir, null, kept, seed);
  collectGarbage();
  rmSync(dir, { recursive: true, force: true });
  return { count, floor, one, all, byDefault };
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-recovery-'));
  try {
    const cold = dropCaches();
    const counts = params.rows >= 5_000_000 ? [1_000_000, params.rows] : [params.rows];
    const runs: SizeRun[] = [];
    for (const count of counts) runs.push(await measureSize(base, count, params.seed, cold, log));
    return {
      figures: runs.flatMap(figures),
      notes: notes(parent, cold, runs),
      counts: Object.fromEntries(runs.map((r) => [`rows${r.count}`, r.all.rows])),
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

function figures(r: SizeRun): Figure[] {
  const n = `${(r.count / 1e6).toLocaleString('en-US')} M rows`;
  const loadMBs = (x: Recovered): number => x.load.bytes / MiB / (x.load.loadMs / 1000);
  const cores = r.all.option!;
  const best = [r.byDefault, r.one, r.all].reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return [
    {
      name: `recovery of ${n}, default (${r.byDefault.workers} workers): open() until readable`,
      unit: 's',
      tidemark: r.byDefault.seconds,
      baseline: null,
      target: { on: 'tidemark', compare: 'atMost', value: (TARGET_SECONDS_PER_5M * r.count) / 5_000_000 },
    },
    { name: `recovery of ${n}, 1 worker`, unit: 's', tidemark: r.one.seconds, baseline: null, target: null },
    { name: `recovery of ${n}, ${cores} workers (all cores; ${r.all.workers} used)`, unit: 's', tidemark: r.all.seconds, baseline: null, target: null },
    { name: `recovery of ${n}: rows in the files per second, all cores vs 1 worker`, unit: 'rows/s', tidemark: r.count / r.all.seconds, baseline: r.count / r.one.seconds, target: null },
    {
      name: `recovery of ${n}: pair files read during the load (fastest run) vs plain sequential reads`,
      unit: 'MB/s',
      tidemark: loadMBs(best),
      baseline: r.floor.bytes / MiB / r.floor.seconds,
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_READ_RATIO },
    },
  ];
}

function notes(parent: string, cold: boolean, runs: SizeRun[]): string[] {
  const lines = [
    `Files in ${parent}; page cache ${cold ? 'dropped before each read (cold)' : 'not droppable here: every read is warm'}. Rows are { id int32, name string(16), balance float64, ts float64 }; ${DELETED_FRACTION * 100}% deleted after the load; the target is ${TARGET_SECONDS_PER_5M} s for 5 M rows, scaled linearly for other sizes.`,
  ];
  for (const r of runs) {
    const one = r.one.load;
    const all = r.all.load;
    lines.push(
      `${r.count.toLocaleString('en-US')} rows: ${(r.floor.bytes / MiB).toFixed(1)} MiB of pair files in ${all.cfps} pairs, ${all.rows.toLocaleString('en-US')} live and ${all.skipped.toLocaleString('en-US')} filtered out. ` +
        `1 worker: pairs loaded in ${one.loadMs.toFixed(0)} ms of ${(r.one.seconds * 1000).toFixed(0)} ms (main thread linking ${one.linkMs.toFixed(0)} ms, tasks ${one.taskMs.toFixed(0)} ms); ` +
        `${r.all.option} workers (${all.workers} used, one per pair at most): ${all.loadMs.toFixed(0)} ms of ${(r.all.seconds * 1000).toFixed(0)} ms (linking ${all.linkMs.toFixed(0)} ms, tasks ${all.taskMs.toFixed(0)} ms in all); ` +
        `default (${r.byDefault.workers} workers): ${r.byDefault.load.loadMs.toFixed(0)} ms of ${(r.byDefault.seconds * 1000).toFixed(0)} ms (linking ${r.byDefault.load.linkMs.toFixed(0)} ms); ` +
        `speed-up from 1 worker to all cores ${(r.one.seconds / r.all.seconds).toFixed(2)}×. Floor: ${r.floor.seconds.toFixed(3)} s.`,
    );
  }
  return lines;
}

export const recoveryWorkload: Workload = {
  name: 'recovery',
  description: 'open() of N rows (20% deleted): default, 1 and all recovery workers, vs plain sequential reads of the same files',
  baseline: '1 worker, plain sequential reads',
  sizes: { full: { rows: 5_000_000, ops: 0 }, quick: { rows: 200_000, ops: 0 } },
  run,
};
