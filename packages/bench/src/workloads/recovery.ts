/**
 * `recovery`: how fast a database comes back. A directory is built with N
 * accounts rows, 20% of them deleted after the load (so the delta files
 * filter), and closed (a final checkpoint: everything is in checkpoint file
 * pairs, the WAL tail is empty). Then, in one run on the same files:
 *
 * - the floor: the pair files read start to end with plain sequential reads
 *   (the median of RUNS reads);
 * - open() with 1 recovery worker, with one per core, and with the default:
 *   the time until open() resolves, when every row is readable by key (a
 *   sample of keys is read back to check it). Each open runs in a fresh
 *   process (recovery_child.ts), as a restart does, RUNS times; the median
 *   is the figure and the notes list every run. Opened in the process that
 *   built the rows, the same open varied by half (1.07 s and 1.62 s for
 *   5 M rows in one run) with what the earlier opens left in the heap.
 *
 * Before each read the page cache is dropped where the machine permits it
 * (cold: the whole cache as root, else the files' own pages, see
 * limits/seq_read.ts); otherwise every read is warm, and the notes say
 * which. A full run measures 1 M and 5 M rows; the target is 5 M in 1.5 s
 * (the issue's only time target), scaled linearly for a quick run's size;
 * the 1 M rows are reported without one.
 *
 * The read rate is judged on the I/O part, as the issue words it: the pair
 * files' bytes over the time the recovery tasks spent in their read calls.
 * The whole load's rate (bytes over the load, the main thread's linking
 * included) is reported beside it; it is bound by the CPU, not the disk.
 * Only the time inside the read calls counts, so read-ahead the kernel
 * does while a task parses is not counted (the I/O part can beat the
 * floor), and several workers' read times are summed: a rate per reader,
 * as the floor is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type CheckpointLoad, type OpenOptions } from '@tidemark/core';
import { runChild } from '../child.js';
import { BUILD_BATCH_ROWS } from '../constants.js';
import { ACCOUNTS, generateRows, prng, rowAt, TABLE } from '../data.js';
import {
  cacheWords,
  dropCaches,
  dropCachesAgain,
  probeSequentialRead,
  type CacheDrop,
  type ReadProbe,
} from '../limits/seq_read.js';
import { collectGarbage } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import type { RecoveryRequest, RecoveryResult } from './recovery_child.js';

const MiB = 1024 * 1024;
const DELETED_FRACTION = 0.2;
const TARGET_SECONDS_PER_5M = 1.5;
const TARGET_READ_RATIO = 0.5;
const CHECKED_KEYS = 10_000;
/** Opens per setting; the median is the figure. */
const RUNS = 3;
/** The build waits for the log every this many batches. */
const FLUSH_EVERY_BATCHES = 50;

interface Recovered {
  /** The option given (null: the default) and the workers it used. */
  option: number | null;
  workers: number;
  /** The median run's figures, and every run's seconds. */
  seconds: number;
  load: CheckpointLoad;
  rows: number;
  runs: number[];
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
      .filter(
        (f) =>
          (f.kind === 'data' || f.kind === 'delta') &&
          f.rows !== null &&
          f.usedBytes !== null &&
          f.state !== 'PRECREATED',
      )
      .map((f) => ({ path: join(dir, f.file), bytes: f.usedBytes! }));
    return { kept: Int32Array.from(kept), files };
  } finally {
    await db.close();
  }
}

/**
 * Opens `dir` RUNS times, each in a fresh process (recovery_child.ts), the
 * page cache dropped first when `cold`; every `keptPath` key is a row it
 * must hold. The runs in order.
 */
export async function openRuns(
  dir: string,
  workers: number | null,
  keptPath: string,
  seed: number,
  cold: CacheDrop,
  options?: OpenOptions,
): Promise<RecoveryResult[]> {
  return (await openRunsInTurn([dir], workers, keptPath, seed, cold, RUNS, options))[0]!;
}

/**
 * Opens each of `dirs` `runs` times as openRuns does, in turn (a, b, a, b,
 * ...), so that the machine's drift falls on each alike; the runs of each
 * directory in order. The `reclaim` workload compares two directories so.
 */
export async function openRunsInTurn(
  dirs: readonly string[],
  workers: number | null,
  keptPath: string,
  seed: number,
  cold: CacheDrop,
  runs: number,
  options?: OpenOptions,
): Promise<RecoveryResult[][]> {
  const out: RecoveryResult[][] = dirs.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [d, dir] of dirs.entries()) {
      dropCachesAgain(cold, [dir]);
      const request: RecoveryRequest = { dir, workers, keptPath, checkedKeys: CHECKED_KEYS, seed: seed + i, options };
      out[d]!.push(
        await runChild<RecoveryRequest, RecoveryResult>(
          'workloads/recovery_child',
          import.meta.url,
          1,
          request,
          `the open of ${dir}`,
        ),
      );
    }
  }
  return out;
}

/** The run of median time. */
export function medianRun(runs: readonly RecoveryResult[]): RecoveryResult {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[runs.length >> 1]!;
}

/** Opens `dir` RUNS times, each in a fresh process; the median run. */
async function recover(
  dir: string,
  option: number | null,
  keptPath: string,
  seed: number,
  cold: CacheDrop,
): Promise<Recovered> {
  const runs = await openRuns(dir, option, keptPath, seed, cold);
  const median = medianRun(runs);
  return {
    option,
    workers: median.workers,
    seconds: median.seconds,
    load: median.load,
    rows: median.rows,
    runs: runs.map((r) => r.seconds),
  };
}

interface SizeRun {
  count: number;
  floor: ReadProbe;
  one: Recovered;
  all: Recovered;
  byDefault: Recovered;
}

async function measureSize(
  base: string,
  count: number,
  seed: number,
  cold: CacheDrop,
  log: (line: string) => void,
): Promise<SizeRun> {
  const dir = join(base, `rows-${count}`);
  log(`recovery: building ${count.toLocaleString('en-US')} rows, deleting ${DELETED_FRACTION * 100}%`);
  const { kept, files } = await buildDir(dir, count, seed);
  const keptPath = join(base, `kept-${count}.bin`);
  writeFileSync(keptPath, new Uint8Array(kept.buffer, kept.byteOffset, kept.byteLength));
  collectGarbage();
  log(`recovery: the floor, plain sequential reads of the pair files (their valid lengths), ${RUNS} times`);
  const floors: ReadProbe[] = [];
  for (let i = 0; i < RUNS; i++) {
    dropCachesAgain(
      cold,
      files.map((f) => f.path),
    );
    floors.push(probeSequentialRead(files));
  }
  const floor = floors.sort((a, b) => a.seconds - b.seconds)[floors.length >> 1]!;
  log(`recovery: open with 1 worker, ${RUNS} times, each in a fresh process`);
  const one = await recover(dir, 1, keptPath, seed, cold);
  const cores = availableParallelism();
  log(`recovery: open with ${cores} workers, ${RUNS} times`);
  const all = await recover(dir, cores, keptPath, seed, cold);
  log(`recovery: open with the default recovery workers, ${RUNS} times`);
  const byDefault = await recover(dir, null, keptPath, seed, cold);
  rmSync(dir, { recursive: true, force: true });
  rmSync(keptPath, { force: true });
  return { count, floor, one, all, byDefault };
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-recovery-'));
  try {
    const cold = dropCaches([base]);
    const counts = params.rows >= 5_000_000 ? [1_000_000, params.rows] : [params.rows];
    const runs: SizeRun[] = [];
    for (const count of counts) runs.push(await measureSize(base, count, params.seed, cold, log));
    return {
      figures: runs.flatMap((r) => figures(r, r.count === params.rows)),
      notes: notes(parent, cold, runs),
      counts: Object.fromEntries(runs.map((r) => [`rows${r.count}`, r.all.rows])),
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** The time target is on the run's own size (`main`): 5 M rows in a full run, as the issue sets it, scaled for a quick run's size; the 1 M rows a full run also measures are reported without one. */
function figures(r: SizeRun, main: boolean): Figure[] {
  const n = `${(r.count / 1e6).toLocaleString('en-US')} M rows`;
  const loadMBs = (x: Recovered): number => x.load.bytes / MiB / (x.load.loadMs / 1000);
  const readMBs = (x: Recovered): number => x.load.bytes / MiB / (x.load.readMs / 1000);
  const floorMBs = r.floor.bytes / MiB / r.floor.seconds;
  const cores = r.all.option!;
  const best = [r.byDefault, r.one, r.all].reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return [
    {
      name: `recovery of ${n}, default (${r.byDefault.workers} workers): open() until readable`,
      unit: 's',
      tidemark: r.byDefault.seconds,
      baseline: null,
      target: main ? { on: 'tidemark', compare: 'atMost', value: (TARGET_SECONDS_PER_5M * r.count) / 5_000_000 } : null,
    },
    { name: `recovery of ${n}, 1 worker`, unit: 's', tidemark: r.one.seconds, baseline: null, target: null },
    {
      name: `recovery of ${n}, ${cores} workers (all cores; ${r.all.workers} used)`,
      unit: 's',
      tidemark: r.all.seconds,
      baseline: null,
      target: null,
    },
    {
      name: `recovery of ${n}: rows in the files per second, all cores vs 1 worker`,
      unit: 'rows/s',
      tidemark: r.count / r.all.seconds,
      baseline: r.count / r.one.seconds,
      target: null,
    },
    {
      name: `recovery of ${n}, the I/O part: pair files read by the recovery tasks (fastest run; bytes over the time in their read calls) vs plain sequential reads`,
      unit: 'MB/s',
      tidemark: readMBs(best),
      baseline: floorMBs,
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_READ_RATIO },
    },
    {
      name: `recovery of ${n}, the whole load: pair files loaded (fastest run; bytes over the load, linking included) vs plain sequential reads`,
      unit: 'MB/s',
      tidemark: loadMBs(best),
      baseline: floorMBs,
      target: null,
    },
  ];
}

function notes(parent: string, cold: CacheDrop, runs: SizeRun[]): string[] {
  const lines = [
    `Files in ${parent}; page cache ${cacheWords(cold)}; each open in a fresh process, the median of ${RUNS}. Rows are { id int32, name string(16), balance float64, ts float64 }; ${DELETED_FRACTION * 100}% deleted after the load; the target is ${TARGET_SECONDS_PER_5M} s for 5 M rows (a quick run scales it to its size; the 1 M rows of a full run have none, as the issue sets none).`,
  ];
  for (const r of runs) {
    const one = r.one.load;
    const all = r.all.load;
    lines.push(
      `${r.count.toLocaleString('en-US')} rows: ${(r.floor.bytes / MiB).toFixed(1)} MiB of pair files in ${all.cfps} pairs, ${all.rows.toLocaleString('en-US')} live and ${all.skipped.toLocaleString('en-US')} filtered out. ` +
        `1 worker: pairs loaded in ${one.loadMs.toFixed(0)} ms of ${(r.one.seconds * 1000).toFixed(0)} ms (main thread linking ${one.linkMs.toFixed(0)} ms, tasks ${one.taskMs.toFixed(0)} ms, their reads ${one.readMs.toFixed(0)} ms); ` +
        `${r.all.option} workers (${all.workers} used, one per pair at most): ${all.loadMs.toFixed(0)} ms of ${(r.all.seconds * 1000).toFixed(0)} ms (linking ${all.linkMs.toFixed(0)} ms, tasks ${all.taskMs.toFixed(0)} ms in all, their reads ${all.readMs.toFixed(0)} ms); ` +
        `default (${r.byDefault.workers} workers): ${r.byDefault.load.loadMs.toFixed(0)} ms of ${(r.byDefault.seconds * 1000).toFixed(0)} ms (linking ${r.byDefault.load.linkMs.toFixed(0)} ms); ` +
        `speed-up from 1 worker to all cores ${(r.one.seconds / r.all.seconds).toFixed(2)}×. Floor (median of ${RUNS}): ${r.floor.seconds.toFixed(3)} s. ` +
        `Each open in a fresh process, median of ${RUNS} (seconds): 1 worker ${runList(r.one)}; ${r.all.option} workers ${runList(r.all)}; default ${runList(r.byDefault)}.`,
    );
  }
  return lines;
}

function runList(r: Recovered): string {
  return r.runs.map((s) => s.toFixed(3)).join(', ');
}

export const recoveryWorkload: Workload = {
  name: 'recovery',
  description:
    'open() of N rows (20% deleted): default, 1 and all recovery workers, vs plain sequential reads of the same files',
  baseline: '1 worker, plain sequential reads',
  sizes: { full: { rows: 5_000_000, ops: 0 }, quick: { rows: 200_000, ops: 0 } },
  run,
};
