/**
 * `footprint`: what a new database costs before it holds much, and what the
 * pre-allocation that grows with the data costs while it grows.
 *
 * - In rounds, each in a fresh folder: `open()` of a new database (timed),
 *   1,000 rows inserted in one durable transaction, the disk it then takes
 *   (allocated blocks of every file, the pre-allocated space included), and
 *   a reopen after close (timed).
 * - Growth: a fresh database takes durable single-row inserts, one in
 *   flight, until its WAL has rolled over through the small first segments
 *   and its first data files were made; the latency of those commits, the
 *   rollovers and file creations among them, against the disk's own write +
 *   fdatasync latency measured just before.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TARGET_NEW_DB_DISK_BYTES, TARGET_NEW_DB_OPEN_MS } from '../constants.js';
import { generateRows, openAccounts, rowAt, TABLE } from '../data.js';
import { probeFdatasync } from '../limits/fdatasync.js';
import { latencyHistogram, latencySummary, median, recordMs } from '../measure.js';
import type { Workload, WorkloadParams, WorkloadResult } from '../workload.js';

const ROUNDS = 5;
const ROWS = 1_000;
/** WAL bytes the growth phase writes: past the first segments (1, 2, 4, 8 MiB) and the first data files. */
const GROWTH_WAL_BYTES = 24 * 1024 * 1024;

/** Bytes the files of `dir` take on disk (allocated blocks, not lengths). */
function diskBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).blocks * 512, 0);
}

async function newDatabase(parent: string): Promise<{ openMs: number; bytes: number; reopenMs: number }> {
  const dir = mkdtempSync(join(parent, 'db-'));
  try {
    const rows = generateRows(ROWS, 1);
    let started = performance.now();
    const db = await openAccounts(dir);
    const openMs = performance.now() - started;
    await db.transaction((tx) => {
      for (let i = 0; i < ROWS; i++) tx.insert(TABLE, rowAt(rows, i));
    });
    const bytes = diskBytes(dir);
    await db.close();
    started = performance.now();
    const again = await openAccounts(dir);
    const reopenMs = performance.now() - started;
    await again.close();
    return { openMs, bytes, reopenMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function growth(parent: string, params: WorkloadParams) {
  const dir = mkdtempSync(join(parent, 'growth-'));
  try {
    const sync = probeFdatasync(parent, 2_000, params.secondsLimit);
    const db = await openAccounts(dir);
    const table = db.table(TABLE);
    const rows = generateRows(params.ops, params.seed);
    const histogram = latencyHistogram();
    let maxMs = 0;
    let i = 0;
    const stopAt = performance.now() + (params.secondsLimit ?? 60) * 1000;
    while (i < params.ops && db.stats().durability!.wal.bytes < GROWTH_WAL_BYTES && performance.now() < stopAt) {
      const started = performance.now();
      await table.insert(rowAt(rows, i++), { durability: 'durable' });
      const ms = performance.now() - started;
      recordMs(histogram, ms);
      maxMs = Math.max(maxMs, ms);
    }
    const stats = await db.logStats();
    const walBytes = db.stats().durability!.wal.bytes;
    await db.close();
    return { commits: i, walBytes, latency: latencySummary(histogram), maxMs, sync: sync.latency, stats };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = mkdtempSync(join(params.dir ?? tmpdir(), 'tidemark-footprint-'));
  const rounds: Array<{ openMs: number; bytes: number; reopenMs: number }> = [];
  let grown: Awaited<ReturnType<typeof growth>>;
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      log(`footprint: new database, round ${r} of ${ROUNDS}`);
      rounds.push(await newDatabase(parent));
    }
    log('footprint: durable commits while the files grow');
    grown = await growth(parent, params);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
  const mib = (b: number) => (b / 1024 / 1024).toFixed(2);
  const list = (pick: (r: (typeof rounds)[number]) => string) => rounds.map(pick).join(', ');
  const writer = grown.stats.writer;
  return {
    figures: [
      {
        name: `disk of a new database holding ${ROWS.toLocaleString('en-US')} rows`,
        unit: 'MiB',
        tidemark: median(rounds.map((r) => r.bytes)) / 1024 / 1024,
        baseline: null,
        target: { on: 'tidemark', compare: 'atMost', value: TARGET_NEW_DB_DISK_BYTES / 1024 / 1024 },
      },
      {
        name: 'first open() of a new database',
        unit: 'ms',
        tidemark: median(rounds.map((r) => r.openMs)),
        baseline: null,
        target: { on: 'tidemark', compare: 'atMost', value: TARGET_NEW_DB_OPEN_MS },
      },
      {
        name: `reopen of it, ${ROWS.toLocaleString('en-US')} rows`,
        unit: 'ms',
        tidemark: median(rounds.map((r) => r.reopenMs)),
        baseline: null,
        target: null,
      },
      {
        name: 'durable commit while the files grow: p99 vs write + fdatasync p99',
        unit: 'ms',
        tidemark: grown.latency.p99Ms,
        baseline: grown.sync.p99Ms,
        target: null,
      },
      {
        name: 'durable commit while the files grow: the slowest vs write + fdatasync p99.9',
        unit: 'ms',
        tidemark: grown.maxMs,
        baseline: grown.sync.p999Ms,
        target: null,
      },
    ],
    notes: [
      `New database: ${ROUNDS} rounds, each in a fresh folder: open() timed, ${ROWS.toLocaleString('en-US')} rows { id int32, name string(16), balance float64, ts float64 } in one durable transaction, the allocated blocks of every file (pre-allocated space included), close, a reopen timed. Medians; the rounds:`,
      `  disk MiB: ${list((r) => mib(r.bytes))}`,
      `  open ms: ${list((r) => r.openMs.toFixed(1))}; reopen ms: ${list((r) => r.reopenMs.toFixed(1))}`,
      `Growth: ${grown.commits.toLocaleString('en-US')} durable single-row inserts, one in flight, on a fresh database until ${mib(grown.walBytes)} MiB of WAL were written; the log writer made ${writer?.segmentsCreated ?? '?'} segments meanwhile. Latency p50 ${grown.latency.p50Ms.toFixed(3)} ms, p99 ${grown.latency.p99Ms.toFixed(3)}, p99.9 ${grown.latency.p999Ms.toFixed(3)}, slowest ${grown.maxMs.toFixed(3)}; one write + fdatasync just before: p50 ${grown.sync.p50Ms.toFixed(3)}, p99 ${grown.sync.p99Ms.toFixed(3)}, p99.9 ${grown.sync.p999Ms.toFixed(3)}.`,
      'Segments start at 1 MiB and double at each rollover up to walSegmentBytes, data files at 2 MiB and double up to dataFileSizeBytes; each is zero-filled ahead of need (the next segment once the current one is half full, the next pair once the current one is three quarters full), so no commit waits for a file to be made.',
    ],
    counts: { rounds: ROUNDS, growthCommits: grown.commits },
  };
}

export const footprintWorkload: Workload = {
  name: 'footprint',
  description: 'disk and first open() of a new database of 1,000 rows; durable commit latency while its files grow',
  baseline: "none for the new database (targets); the disk's write + fdatasync latency for the growth",
  sizes: { full: { rows: 0, ops: 200_000, seconds: 30 }, quick: { rows: 0, ops: 20_000, seconds: 5 } },
  run,
};
