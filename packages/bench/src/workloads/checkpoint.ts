/**
 * `checkpoint`: what streaming commits into checkpoint file pairs costs,
 * measured next to its limits in one run on one folder:
 *
 * - streaming throughput — bytes the streamer wrote to data and delta files
 *   per second of its own busy time (streaming and checkpointing; the
 *   pre-creation of pool pairs, kept ahead of need, is timed apart and
 *   given in the notes) while
 *   delayed-durability inserts run flat out — against the disk's sequential
 *   write rate (limits/seq_write.ts), and against the WAL rate of that same
 *   insert workload (the heaviest commit workload: WAL bytes per second);
 *   and, untargeted, the same with the time the streamer waited for a core
 *   left out of its busy time (it runs below the commit path's priority,
 *   and the inserts keep both cores busy), and the streamer catching up a
 *   WAL backlog after a reopen with nothing else running;
 * - durable inserts with 256 in flight, with checkpointing on (small
 *   triggers, so checkpoints, pair closes and WAL recycling happen during the
 *   run) against the same loop with checkpointing off (no streamer):
 *   commits/s and latency p99. Five runs of each, in the order off, on,
 *   on, off, off, on, on, off, off, on, so that the machine's drift during
 *   the run falls on both sides alike; the figures are the medians (on this
 *   2-core VM one run of each swung the ratios by more than the 10% they
 *   were held to), and the off runs' own spread is given beside them.
 *
 * Every sub-measurement opens a fresh database in a folder of its own; the
 * run's temporary folder is removed at the end, whatever happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Database, type OpenOptions, type StreamerStats } from '@tidemark/core';
import { EVENT_LOOP_IN_FLIGHT, WARMUP_OPS } from '../constants.js';
import { ACCOUNTS, generateRows, TABLE, type RowColumns } from '../data.js';
import { probeSequentialWrite, type WriteProbe } from '../limits/seq_write.js';
import { collectGarbage, latencyHistogram, latencySummary, median, type LatencySummary } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { insertDelayed, insertInFlight, type Timed } from './durable_loops.js';

const MiB = 1024 * 1024;
/** Triggers small enough that a few seconds of commits cross several checkpoints and pair closes. */
const ACTIVE_CHECKPOINTS: OpenOptions = {
  walSegmentBytes: 4 * MiB,
  checkpointWalBytes: 16 * MiB,
  dataFileSizeBytes: 8 * MiB,
  checkpointIntervalMs: 250,
};
// Restated on 2026-12-07 (issue 30): streaming against the sequential write probe is reported without a
// target (the virtual disk's probe moves 5x from day to day); on vs off is judged on the medians of five
// interleaved runs each, at 0.85x and a p99 of 1.2x, with the off runs' own spread beside it.
const TARGET_WAL_RATE_RATIO = 2;
const TARGET_THROUGHPUT_RATIO = 0.85;
const TARGET_P99_RATIO = 1.2;
/** Checkpointing off (false) and on (true), in this order, each a fresh database. */
const ON_OFF_ORDER = [false, true, true, false, false, true, true, false, false, true];

interface Streaming extends StreamerBusy {
  timed: Timed;
  walBytes: number;
  checkpoints: number;
  /** Time the streamer spent pre-creating pool pairs, and the pairs it made (not in busySeconds: see the notes). */
  poolSeconds: number;
  filesCreated: number;
  poolMisses: number;
}

/** The streamer catching up a WAL backlog after a reopen, with nothing else running. */
interface CatchUp extends StreamerBusy {
  rows: number;
  walBytes: number;
}

/** What the streamer wrote and its busy time (streaming and checkpoints), from its statistics. */
interface StreamerBusy {
  cfpBytes: number;
  busySeconds: number;
  /** Of busySeconds, the part spent checkpointing (syncs and roots). */
  checkpointSeconds: number;
  /** Of busySeconds, the time the streamer's thread waited for a core (null: no such clock on this platform). */
  coreWaitSeconds: number | null;
}

function streamerBusy(s: StreamerStats): StreamerBusy {
  const waits =
    s.streamCoreWaitMs === null || s.checkpointCoreWaitMs === null
      ? null
      : (s.streamCoreWaitMs + s.checkpointCoreWaitMs) / 1000;
  return {
    cfpBytes: s.bytesWritten,
    busySeconds: (s.streamMs + s.checkpointMs) / 1000,
    checkpointSeconds: s.checkpointMs / 1000,
    coreWaitSeconds: waits,
  };
}

interface OnOff {
  timed: Timed;
  latency: LatencySummary;
  checkpoints: number;
}

async function withDb<T>(dir: string, options: OpenOptions, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await open({ dir, tables: [ACCOUNTS], ...options });
  try {
    return await fn(db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Flat-out delayed inserts; then a checkpoint, so every byte is streamed before the streamer's figures are read. */
function measureStreaming(dir: string, rows: RowColumns, seconds: number | null): Promise<Streaming> {
  return withDb(dir, { ...ACTIVE_CHECKPOINTS }, async (db) => {
    const timed = await insertDelayed(db, rows, seconds);
    const wal = (await db.logStats()).writer!;
    await db.checkpoint();
    const s = (await db.logStats()).streamer!;
    return {
      timed,
      walBytes: wal.bytes,
      ...streamerBusy(s),
      checkpoints: s.checkpoints,
      poolSeconds: s.poolMs / 1000,
      filesCreated: s.filesCreated,
      poolMisses: s.poolMisses,
    };
  });
}

/**
 * A WAL backlog streamed with the machine to itself: the rows are inserted
 * with checkpointing off (the WAL keeps everything), the directory is
 * reopened with it on, and the streamer streams the whole WAL while the main
 * thread only waits for the checkpoint that covers it. The streamer's
 * figures are then its own speed, without the inserts and the log writer
 * taking the cores (compare the flat-out measurement above). It starts as
 * the open ends, so the open's last steps and the collection of its
 * garbage can still take a core from it: its waits are in the notes.
 */
async function measureCatchUp(dir: string, rows: RowColumns, seconds: number | null): Promise<CatchUp> {
  const first = await open({ dir, tables: [ACCOUNTS], ...ACTIVE_CHECKPOINTS, checkpoints: false });
  let timed: Timed;
  let walBytes: number;
  try {
    timed = await insertDelayed(first, rows, seconds);
    walBytes = (await first.logStats()).writer!.bytes;
  } finally {
    await first.close();
  }
  return withDb(dir, { ...ACTIVE_CHECKPOINTS }, async (db) => {
    await db.checkpoint();
    return { rows: timed.ops, walBytes, ...streamerBusy((await db.logStats()).streamer!) };
  });
}

function measureOnOff(dir: string, rows: RowColumns, checkpoints: boolean, seconds: number | null): Promise<OnOff> {
  return withDb(dir, { ...ACTIVE_CHECKPOINTS, checkpoints }, async (db) => {
    const histogram = latencyHistogram();
    const timed = await insertInFlight(db.table(TABLE), rows, EVENT_LOOP_IN_FLIGHT, seconds, histogram);
    const streamer = (await db.logStats()).streamer;
    return { timed, latency: latencySummary(histogram), checkpoints: streamer?.checkpoints ?? 0 };
  });
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-checkpoint-'));
  try {
    const rows = generateRows(params.ops, params.seed);
    await measureOnOff(join(base, 'warm-up'), generateRows(Math.min(params.ops, WARMUP_OPS), params.seed), true, null);
    collectGarbage();
    log(`checkpoint: the disk's sequential write rate, in ${base}`);
    const write = probeSequentialWrite(base, Math.max(16 * MiB, params.ops * 256), params.secondsLimit);
    log('checkpoint: streaming under flat-out delayed inserts');
    const streaming = await measureStreaming(join(base, 'streaming'), rows, params.secondsLimit);
    collectGarbage();
    log('checkpoint: streaming a WAL backlog after a reopen, nothing else running');
    const catchUp = await measureCatchUp(join(base, 'catch-up'), rows, params.secondsLimit);
    collectGarbage();
    log(
      `checkpoint: ${EVENT_LOOP_IN_FLIGHT} durable inserts in flight, checkpointing ${ON_OFF_ORDER.map((c) => (c ? 'on' : 'off')).join(', ')}`,
    );
    const on: OnOff[] = [];
    const off: OnOff[] = [];
    for (const [i, checkpoints] of ON_OFF_ORDER.entries()) {
      collectGarbage();
      (checkpoints ? on : off).push(
        await measureOnOff(join(base, `${checkpoints ? 'on' : 'off'}-${i}`), rows, checkpoints, params.secondsLimit),
      );
    }
    const sum = (runs: OnOff[], f: (r: OnOff) => number): number => runs.reduce((total, r) => total + f(r), 0);
    return {
      figures: figures(write, streaming, catchUp, on, off),
      notes: notes(parent, streaming, catchUp, on, off),
      counts: {
        delayedCommits: streaming.timed.ops,
        durableCommitsOff: sum(off, (r) => r.timed.ops),
        durableCommitsOn: sum(on, (r) => r.timed.ops),
        checkpointsOn: sum(on, (r) => r.checkpoints),
      },
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const rate = (r: OnOff): number => r.timed.ops / r.timed.seconds;

function figures(write: WriteProbe, s: Streaming, c: CatchUp, on: OnOff[], off: OnOff[]): Figure[] {
  const streamMBs = s.busySeconds > 0 ? s.cfpBytes / MiB / s.busySeconds : null;
  const walMBs = s.walBytes / MiB / s.timed.seconds;
  const writeMBs = write.bytes / MiB / write.seconds;
  const inFlight = `durable, ${EVENT_LOOP_IN_FLIGHT} in flight, checkpointing on vs off (medians of ${on.length} runs each)`;
  return [
    {
      name: 'checkpoint streaming vs sequential write',
      unit: 'MB/s',
      tidemark: streamMBs,
      baseline: writeMBs,
      target: null,
    },
    {
      name: 'checkpoint streaming, counting the pre-creation of pool pairs too, vs sequential write',
      unit: 'MB/s',
      tidemark: s.busySeconds + s.poolSeconds > 0 ? s.cfpBytes / MiB / (s.busySeconds + s.poolSeconds) : null,
      baseline: writeMBs,
      target: null,
    },
    {
      name: 'checkpoint streaming, its waits for a core left out of its busy time, vs sequential write',
      unit: 'MB/s',
      tidemark:
        s.coreWaitSeconds !== null && s.busySeconds > s.coreWaitSeconds
          ? s.cfpBytes / MiB / (s.busySeconds - s.coreWaitSeconds)
          : null,
      baseline: writeMBs,
      target: null,
    },
    {
      name: 'checkpoint streaming of a WAL backlog after a reopen, nothing else running, vs sequential write',
      unit: 'MB/s',
      tidemark: c.busySeconds > 0 ? c.cfpBytes / MiB / c.busySeconds : null,
      baseline: writeMBs,
      target: null,
    },
    {
      name: 'checkpoint streaming vs the WAL rate of delayed inserts',
      unit: 'MB/s',
      tidemark: streamMBs,
      baseline: walMBs,
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_WAL_RATE_RATIO },
    },
    {
      name: inFlight,
      unit: 'commits/s',
      tidemark: median(on.map(rate)),
      baseline: median(off.map(rate)),
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_THROUGHPUT_RATIO },
    },
    {
      name: `${inFlight}: latency p99`,
      unit: 'ms',
      tidemark: median(on.map((r) => r.latency.p99Ms)),
      baseline: median(off.map((r) => r.latency.p99Ms)),
      target: { on: 'ratio', compare: 'atMost', value: TARGET_P99_RATIO },
    },
    {
      name: `durable, ${EVENT_LOOP_IN_FLIGHT} in flight, checkpointing off: its own spread, slowest vs fastest run`,
      unit: 'commits/s',
      tidemark: Math.min(...off.map(rate)),
      baseline: Math.max(...off.map(rate)),
      target: null,
    },
  ];
}

function notes(parent: string, s: Streaming, c: CatchUp, on: OnOff[], off: OnOff[]): string[] {
  const each = (runs: OnOff[]): string =>
    runs
      .map((r) => `${Math.round(rate(r)).toLocaleString('en-US')}/s (p99 ${r.latency.p99Ms.toFixed(2)} ms)`)
      .join(', ');
  return [
    `Files in ${parent}. Checkpointing "on" uses walSegmentBytes 4 MiB, checkpointWalBytes 16 MiB, dataFileSizeBytes 8 MiB, checkpointIntervalMs 250; "off" runs no streamer.`,
    `Streaming: ${(s.cfpBytes / MiB).toFixed(1)} MiB written to data and delta files in ${s.busySeconds.toFixed(2)} s of streamer busy time (streaming, and ${s.checkpoints} checkpoints in ${s.checkpointSeconds.toFixed(2)} s of it) while ${s.timed.ops.toLocaleString('en-US')} delayed inserts wrote ${(s.walBytes / MiB).toFixed(1)} MiB of WAL in ${s.timed.seconds.toFixed(2)} s. Pre-creating pool pairs (zero-filled data files, synced) is kept ahead of need and counted apart, neither as streamed bytes nor in the busy time: ${s.filesCreated} files made in ${s.poolSeconds.toFixed(2)} s of the streamer's time; ${s.poolMisses} pool misses (a pair made while streaming, counted in the busy time). ${coreWaitNote(s)}`,
    `Catching up: ${c.rows.toLocaleString('en-US')} delayed inserts written with checkpointing off (${(c.walBytes / MiB).toFixed(1)} MiB of WAL), the directory reopened with it on; the streamer wrote ${(c.cfpBytes / MiB).toFixed(1)} MiB in ${c.busySeconds.toFixed(2)} s of busy time (${c.checkpointSeconds.toFixed(2)} s of it checkpointing${c.coreWaitSeconds === null ? '' : `, ${c.coreWaitSeconds.toFixed(2)} s waiting for a core`}).`,
    `Durable loop, run in the order ${ON_OFF_ORDER.map((c) => (c ? 'on' : 'off')).join(', ')}; the off runs in their order: ${each(off)}; the on runs in their order: ${each(on)}. With checkpointing on, ${on.map((r) => r.checkpoints).join(', ')} checkpoints ran during the runs.`,
  ];
}

/** The streamer runs below the commit path's priority (threads/priority.ts): with both cores busy it waits for one, and its busy time counts that. */
function coreWaitNote(s: Streaming): string {
  if (s.coreWaitSeconds === null) return 'The time the streamer waited for a core is not known on this platform.';
  const share = s.busySeconds > 0 ? (100 * s.coreWaitSeconds) / s.busySeconds : 0;
  return `Of its busy time, the streamer's thread waited ${s.coreWaitSeconds.toFixed(2)} s (${share.toFixed(0)}%) for a core (/proc/thread-self/schedstat): it runs at a lower priority than the inserting main thread and the log writer, which keep the cores busy.`;
}

export const checkpointWorkload: Workload = {
  name: 'checkpoint',
  description:
    'checkpoint streaming MB/s vs sequential write and the WAL rate; durable commits with checkpointing on vs off',
  baseline: "the disk's sequential write rate, the WAL rate, checkpointing off",
  sizes: { full: { rows: 0, ops: 1_000_000, seconds: 5 }, quick: { rows: 0, ops: 100_000, seconds: 1.5 } },
  run,
};
