/**
 * `reclaim`: what the CFP merge and the segment cleaner keep in check. N
 * accounts rows are loaded, then updated flat out (delayed durability, in
 * chunks with a turn of the event loop between them, as a service would)
 * for S seconds, once with uniform keys and once with Zipfian ones. In the
 * same run, and on the same rows:
 *
 * - disk bytes (checkpoint file pairs; the whole directory in the notes)
 *   and memory bytes (arena segments reserved), sampled every second — the
 *   series goes into the JSON for a chart — and their ratios to the live
 *   data at the end (the live rows' bytes as the arena holds them), the
 *   targets; untargeted, the ratio of their means over the phase and their
 *   largest sample;
 * - commit throughput with merge and cleaner on against the same workload
 *   with both off;
 * - recovery time after the workload against recovery of a directory
 *   loaded fresh with the same live rows, each opened as the `recovery`
 *   workload opens one (fresh processes, cold): the two directories in
 *   turn, five opens each, the medians (three of one, then three of the
 *   other, put the machine's drift on one side: 1.15x to 1.33x in three
 *   runs with the same recovery code).
 *
 * Pairs are sized for the data set (dataFileSizeBytes 16 MiB; the default
 * 128 MiB would make the pre-allocated pairs alone larger than 1 M rows)
 * and the WAL trigger is 64 MiB; both are stated in the notes.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Database, type OpenOptions } from '@tidemark/core';
import { BUILD_BATCH_ROWS } from '../constants.js';
import { ACCOUNTS, generateRows, prng, rowAt, TABLE, type RowColumns } from '../data.js';
import { keyPicker, type KeyDistribution } from '../keys.js';
import { cacheWords, dropCaches, type CacheDrop } from '../limits/seq_read.js';
import { collectGarbage } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { medianRun, openRunsInTurn } from './recovery.js';
import type { RecoveryResult } from './recovery_child.js';

const MiB = 1024 * 1024;
const OPTIONS: OpenOptions = {
  dataFileSizeBytes: 16 * MiB,
  checkpointWalBytes: 64 * MiB,
  walSegmentBytes: 16 * MiB,
  durability: 'delayed',
};
const OFF: OpenOptions = { merges: false, cleaner: false };
/** Updates between two turns of the event loop. */
const CHUNK = 2_000;
const SAMPLE_MS = 1_000;
// Restated on 2026-12-07 (issue 30): the disk is judged over the phase (its mean and its largest sample),
// not at the phase's last instant, which is one moment of a merge cycle; recovery after updates at 1.3x.
const TARGET_DISK_MEAN_RATIO = 1.8;
const TARGET_DISK_LARGEST_RATIO = 2.5;
const TARGET_MEMORY_RATIO = 1.5;
const TARGET_THROUGHPUT_RATIO = 0.9;
const TARGET_RECOVERY_RATIO = 1.3;
/** Reopens of each directory in the recovery comparison. */
const REOPENS = 5;

type Keys = KeyDistribution;

/** A type, not an interface: a series is a list of plain number records. */
export type Sample = {
  seconds: number;
  updates: number;
  diskBytes: number;
  dirBytes: number;
  memoryBytes: number;
  liveBytes: number;
};

/** A reopen: the median seconds and every run. */
interface Reopen {
  seconds: number;
  runs: number[];
}

interface Phase {
  keys: Keys;
  reclaim: boolean;
  updates: number;
  seconds: number;
  samples: Sample[];
  end: Sample;
  merges: number;
  segmentsFreed: number;
  cleanerMs: number;
  longestSliceMs: number;
}

/** Disk or memory bytes over the live bytes of a sample. */
type Held = 'diskBytes' | 'memoryBytes';

/**
 * What a phase's series held besides its end: the mean of `held` and of the
 * live bytes over the samples (their ratio is the mean's), and the sample
 * where `held` stood highest against live data. Null with no sample.
 */
export function overPhase(
  samples: Sample[],
  held: Held,
): { mean: { held: number; live: number }; largest: Sample } | null {
  const usable = samples.filter((s) => s.liveBytes > 0);
  if (usable.length === 0) return null;
  let largest = usable[0]!;
  for (const s of usable) if (s[held] / s.liveBytes > largest[held] / largest.liveBytes) largest = s;
  const sum = (f: (s: Sample) => number): number => usable.reduce((total, s) => total + f(s), 0);
  return {
    mean: { held: sum((s) => s[held]) / usable.length, live: sum((s) => s.liveBytes) / usable.length },
    largest,
  };
}

/** Bytes of the files of `dir` matching `pattern`; one the engine removes between the listing and its stat counts nothing. */
function filesBytes(dir: string, pattern: RegExp): number {
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .reduce((sum, f) => sum + (statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
}

function sample(db: Database, dir: string, seconds: number, updates: number): Sample {
  const table = db.stats().tables[0]!;
  return {
    seconds,
    updates,
    diskBytes: filesBytes(dir, /^(data|delta)-[0-9a-f]{16}$/),
    dirBytes: filesBytes(dir, /./),
    memoryBytes: table.reservedBytes,
    liveBytes: table.liveBytes,
  };
}

async function load(dir: string, rows: RowColumns, options: OpenOptions): Promise<void> {
  const db = await open({ dir, tables: [ACCOUNTS], ...OPTIONS, ...options });
  try {
    for (let i = 0; i < rows.count; i += BUILD_BATCH_ROWS) {
      const end = Math.min(rows.count, i + BUILD_BATCH_ROWS);
      db.transactionSync((tx) => {
        for (let j = i; j < end; j++) tx.insert(TABLE, rowAt(rows, j));
      });
      await db.flush();
    }
  } finally {
    await db.close();
  }
}

/** Loads the rows, then updates flat out for `seconds`, sampling; leaves the directory closed. */
async function updatePhase(
  dir: string,
  rows: RowColumns,
  keys: Keys,
  reclaim: boolean,
  seconds: number,
  seed: number,
): Promise<Phase> {
  const options = reclaim ? {} : OFF;
  await load(dir, rows, options);
  collectGarbage();
  const db = await open({ dir, tables: [ACCOUNTS], ...OPTIONS, ...options });
  try {
    const table = db.table(TABLE);
    const pick = keyPicker(keys, rows.count, seed);
    const balance = prng(seed ^ 0xba1);
    const samples: Sample[] = [];
    const started = performance.now();
    let nextSample = started;
    let updates = 0;
    for (;;) {
      const now = performance.now();
      if (now >= nextSample) {
        samples.push(sample(db, dir, (now - started) / 1000, updates));
        nextSample += SAMPLE_MS;
      }
      if (now - started >= seconds * 1000) break;
      for (let i = 0; i < CHUNK; i++) void table.update(pick(), { balance: balance() / 100 });
      updates += CHUNK;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const elapsed = (performance.now() - started) / 1000;
    await db.flush();
    // The end state: what the background work has reached when the workload stops, after one more checkpoint.
    await db.checkpoint();
    const end = sample(db, dir, elapsed, updates);
    const stats = db.stats();
    const merge = (await db.logStats()).streamer!.merge;
    return {
      keys,
      reclaim,
      updates,
      seconds: elapsed,
      samples,
      end,
      merges: merge.merges,
      segmentsFreed: stats.cleaner.segmentsFreed,
      cleanerMs: stats.cleaner.cleanerMs,
      longestSliceMs: stats.cleaner.longestSliceMs,
    };
  } finally {
    await db.close();
  }
}

/**
 * Reopens of `after` and `fresh` in turn, REOPENS of each, timed as the
 * `recovery` workload times one: in fresh processes (cold cache where
 * permitted), the median of each; every row must be there.
 */
async function timeRecoveries(
  after: string,
  fresh: string,
  keptPath: string,
  seed: number,
  cold: CacheDrop,
): Promise<[Reopen, Reopen]> {
  const [a, f] = await openRunsInTurn([after, fresh], null, keptPath, seed, cold, REOPENS, OPTIONS);
  const reopen = (runs: RecoveryResult[]): Reopen => ({
    seconds: medianRun(runs).seconds,
    runs: runs.map((r) => r.seconds),
  });
  return [reopen(a!), reopen(f!)];
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const base = mkdtempSync(join(params.dir ?? tmpdir(), 'tidemark-reclaim-'));
  const seconds = params.secondsLimit ?? 60;
  try {
    const rows = generateRows(params.rows, params.seed);
    const phases: Phase[] = [];
    let recoveryAfter: Reopen = { seconds: 0, runs: [] };
    let recoveryFresh: Reopen = { seconds: 0, runs: [] };
    const cold = dropCaches([base]);
    const keptPath = join(base, 'kept.bin');
    writeFileSync(keptPath, new Uint8Array(rows.ids.buffer, rows.ids.byteOffset, rows.ids.byteLength));
    for (const keys of ['uniform', 'zipfian'] as const) {
      for (const reclaim of [false, true]) {
        const dir = join(base, `${keys}-${reclaim ? 'on' : 'off'}`);
        log(
          `reclaim: ${params.rows.toLocaleString('en-US')} rows, ${keys} updates for ${seconds} s, merge and cleaner ${reclaim ? 'on' : 'off'}`,
        );
        phases.push(await updatePhase(dir, rows, keys, reclaim, seconds, params.seed));
        collectGarbage();
        if (keys === 'uniform' && reclaim) {
          log('reclaim: recovery after the workload, and of the same rows loaded fresh');
          const fresh = join(base, 'fresh');
          await load(fresh, rows, {});
          [recoveryAfter, recoveryFresh] = await timeRecoveries(dir, fresh, keptPath, params.seed, cold);
          rmSync(fresh, { recursive: true, force: true });
        }
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return {
      figures: figures(phases, recoveryAfter.seconds, recoveryFresh.seconds),
      notes: notes(phases, seconds, cold, recoveryAfter, recoveryFresh),
      counts: Object.fromEntries(phases.map((p) => [`updates-${p.keys}-${p.reclaim ? 'on' : 'off'}`, p.updates])),
      series: Object.fromEntries(phases.map((p) => [`${p.keys}-${p.reclaim ? 'on' : 'off'}`, p.samples])),
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

function figures(phases: Phase[], recoveryAfter: number, recoveryFresh: number): Figure[] {
  const out: Figure[] = [];
  for (const keys of ['uniform', 'zipfian'] as const) {
    const on = phases.find((p) => p.keys === keys && p.reclaim)!;
    const off = phases.find((p) => p.keys === keys && !p.reclaim)!;
    out.push(
      {
        name: `${keys}: checkpoint files on disk vs live data, at the end`,
        unit: 'MiB',
        tidemark: on.end.diskBytes / MiB,
        baseline: on.end.liveBytes / MiB,
        target: null,
      },
      {
        name: `${keys}: arena memory vs live data, at the end`,
        unit: 'MiB',
        tidemark: on.end.memoryBytes / MiB,
        baseline: on.end.liveBytes / MiB,
        target: { on: 'ratio', compare: 'atMost', value: TARGET_MEMORY_RATIO },
      },
      {
        name: `${keys}: updates, merge and cleaner on vs off`,
        unit: 'commits/s',
        tidemark: on.updates / on.seconds,
        baseline: off.updates / off.seconds,
        target: { on: 'ratio', compare: 'atLeast', value: TARGET_THROUGHPUT_RATIO },
      },
      ...spread(on, keys),
      {
        name: `${keys}: (reclaim off) files on disk vs live data, at the end`,
        unit: 'MiB',
        tidemark: off.end.diskBytes / MiB,
        baseline: off.end.liveBytes / MiB,
        target: null,
      },
    );
  }
  out.push({
    name: 'recovery after the uniform workload vs the same live rows loaded fresh',
    unit: 's',
    tidemark: recoveryAfter,
    baseline: recoveryFresh,
    target: { on: 'ratio', compare: 'atMost', value: TARGET_RECOVERY_RATIO },
  });
  return out;
}

/**
 * Disk and memory over the whole phase, from the series (one sample a
 * second): the end is one moment of a cycle (a merge's sources and targets
 * side by side, the pair being written, a pre-created one, the cleaner's
 * segments). The disk's mean and largest sample carry its targets; memory's
 * are untargeted (its target is at the end).
 */
function spread(phase: Phase, keys: Keys): Figure[] {
  const out: Figure[] = [];
  for (const [held, what] of [
    ['diskBytes', 'checkpoint files on disk'],
    ['memoryBytes', 'arena memory'],
  ] as const) {
    const over = overPhase(phase.samples, held);
    if (over === null) continue;
    out.push(
      {
        name: `${keys}: ${what} vs live data, mean over the phase`,
        unit: 'MiB',
        tidemark: over.mean.held / MiB,
        baseline: over.mean.live / MiB,
        target: held === 'diskBytes' ? { on: 'ratio', compare: 'atMost', value: TARGET_DISK_MEAN_RATIO } : null,
      },
      {
        name: `${keys}: ${what} vs live data, largest sample`,
        unit: 'MiB',
        tidemark: over.largest[held] / MiB,
        baseline: over.largest.liveBytes / MiB,
        target: held === 'diskBytes' ? { on: 'ratio', compare: 'atMost', value: TARGET_DISK_LARGEST_RATIO } : null,
      },
    );
  }
  return out;
}

function notes(phases: Phase[], seconds: number, cold: CacheDrop, after: Reopen, fresh: Reopen): string[] {
  const mib = (b: number): string => (b / MiB).toFixed(1);
  return [
    `Options: dataFileSizeBytes ${mib(OPTIONS.dataFileSizeBytes!)} MiB, walSegmentBytes ${mib(OPTIONS.walSegmentBytes!)} MiB, checkpointWalBytes ${mib(OPTIONS.checkpointWalBytes!)} MiB, delayed durability; updates of the balance column, ${CHUNK} per event-loop turn, ${seconds} s per phase; "off" is merges: false, cleaner: false. Live data = bytes of the live row versions in the arena (index not counted on either side).`,
    ...phases.map(
      (p) =>
        `${p.keys}, ${p.reclaim ? 'on' : 'off'}: ${p.updates.toLocaleString('en-US')} updates in ${p.seconds.toFixed(1)} s; at the end ${mib(p.end.diskBytes)} MiB of pairs (${mib(p.end.dirBytes)} MiB in the whole directory with the WAL), ${mib(p.end.memoryBytes)} MiB of arena for ${mib(p.end.liveBytes)} MiB live; ${p.merges} merges, ${p.segmentsFreed} segments freed in ${p.cleanerMs.toFixed(0)} ms of cleaner slices (longest ${p.longestSliceMs.toFixed(1)} ms).`,
    ),
    `Recovery: each open in a fresh process with the page cache ${cacheWords(cold)}, the two directories opened in turn, the median of ${after.runs.length} each (seconds): after the uniform workload ${after.runs.map((r) => r.toFixed(3)).join(', ')}; loaded fresh ${fresh.runs.map((r) => r.toFixed(3)).join(', ')}. The series (one sample a second) are in the JSON under "series".`,
  ];
}

export const reclaimWorkload: Workload = {
  name: 'reclaim',
  description:
    'update-heavy workload: disk and memory vs live data over time, commits with merge and cleaner on vs off, recovery after it vs fresh',
  baseline: 'live data; merge and cleaner off; a fresh load',
  sizes: { full: { rows: 1_000_000, ops: 0, seconds: 60 }, quick: { rows: 100_000, ops: 0, seconds: 3 } },
  run,
};
