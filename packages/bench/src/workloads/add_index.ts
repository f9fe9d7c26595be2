/**
 * `addIndex`: an index built online on a durable table of N rows (5 M full)
 * while durable single-row inserts run at 256 in flight, against the same
 * index built by a fresh recovery. For each of INDEXES, on a table of its
 * own:
 *
 *   1. N accounts rows are built on disk and checkpointed.
 *   2. 256 lanes of durable inserts of new rows start (insert_lanes.ts);
 *      after WARM_MS, a window of `seconds` ("before"), then addIndex, its
 *      window lasting from the call until the promise resolves (the index
 *      complete, committed and durable). The lanes then stop.
 *   3. A checkpoint and a close, so the index is in the checkpoint's
 *      catalog. Then RUNS opens, each in a fresh process
 *      (recovery_child.ts), with the index in `tables`: recovery loads the
 *      rows and then builds the index from them, and reports that time
 *      (`db.recovery.checkpoint.indexMs`), the baseline of the build time.
 *
 * Both builds end with the same rows in the index: the online one walks
 * the rows there were when it began (the N and those inserted before it)
 * while the inserts add theirs as they commit; the recovery indexes every
 * row it loads.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IndexDef, TableDef } from '@tidemark/core';
import {
  EVENT_LOOP_IN_FLIGHT,
  TARGET_BUILD_LOOP_DELAY_MS,
  TARGET_COMMITS_DURING_BUILD_RATIO,
  TARGET_ONLINE_INDEX_RATIO,
} from '../constants.js';
import { ACCOUNTS, generateRows, openAccounts, rowAt, TABLE, type RowColumns } from '../data.js';
import { collectGarbage, median, rate } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { fillDurable } from './fill_durable.js';
import { InsertLanes, type LaneWindow } from './insert_lanes.js';
import { openRuns } from './recovery.js';
import type { RecoveryResult } from './recovery_child.js';

/** The indexes built, each on a table of its own: an ordered one on random balances, a hash one on random names. */
const INDEXES: readonly IndexDef[] = [
  { name: 'byBalance', columns: ['balance'], kind: 'ordered' },
  { name: 'byName', columns: ['name'], kind: 'hash' },
];
/** Inserts run this long before the "before" window opens (the JIT, the log writer's pace). */
const WARM_MS = 500;

/** Step 2, on one table. */
interface Online {
  index: IndexDef;
  rows: number;
  inserted: number;
  before: LaneWindow<void>;
  build: LaneWindow<number>;
  /** A window as long as `before`, once the index is complete: what commits cost with it to keep up. */
  after: LaneWindow<void>;
}

interface Measured extends Online {
  /** Step 3's opens, in order. */
  recovered: RecoveryResult[];
}

/** The rows of the table, and those the inserts take, shared by every index's run. */
interface Input {
  rows: RowColumns;
  fresh: RowColumns;
}

function label(index: IndexDef): string {
  return `${index.kind ?? 'hash'}, on ${index.columns.join(', ')}`;
}

/** Steps 1 and 2: builds the table, then the index online under the inserts; closes the database. */
async function buildOnline(
  dir: string,
  index: IndexDef,
  input: Input,
  params: WorkloadParams,
  log: (line: string) => void,
): Promise<Online> {
  const n = params.rows.toLocaleString('en-US');
  const db = await openAccounts(dir);
  try {
    log(`addIndex: building ${n} rows on disk`);
    await fillDurable(db, 0, params.rows, (i) => rowAt(input.rows, i));
    await db.checkpoint();
    collectGarbage();
    const table = db.table(TABLE);
    const lanes = new InsertLanes(table, input.fresh, EVENT_LOOP_IN_FLIGHT);
    log(`addIndex: durable inserts, ${EVENT_LOOP_IN_FLIGHT} in flight, ${params.secondsLimit ?? 0} s before the build`);
    lanes.start();
    try {
      await sleep(WARM_MS);
      const before = await lanes.during(() => sleep((params.secondsLimit ?? 0) * 1000));
      log(`addIndex: building the index (${label(index)}) on ${n} rows, the inserts going on`);
      const build = await lanes.during(() => table.addIndex(index));
      const after = await lanes.during(() => sleep((params.secondsLimit ?? 0) * 1000));
      const inserted = await lanes.stop();
      await db.checkpoint();
      return { index, rows: params.rows, inserted, before, build, after };
    } finally {
      await lanes.stop().catch(() => {});
    }
  } finally {
    await db.close();
  }
}

/** Steps 1 to 3 for one index, in a folder of its own under `base`, removed after. */
async function measure(
  base: string,
  index: IndexDef,
  input: Input,
  params: WorkloadParams,
  log: (line: string) => void,
): Promise<Measured> {
  const dir = join(base, index.name);
  const keptPath = join(base, `${index.name}-kept.bin`);
  try {
    const online = await buildOnline(dir, index, input, params, log);
    const total = online.rows + online.inserted;
    const kept = new Int32Array(total);
    for (let i = 0; i < total; i++) kept[i] = i + 1;
    writeFileSync(keptPath, new Uint8Array(kept.buffer));
    const tables: TableDef[] = [{ ...ACCOUNTS, indexes: [index] }];
    log(`addIndex: ${total.toLocaleString('en-US')} rows reopened with the index in the schema, in fresh processes`);
    const recovered = await openRuns(dir, null, keptPath, params.seed, null, { tables });
    return { ...online, recovered };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(keptPath, { force: true });
  }
}

function figures(m: Measured): Figure[] {
  const n = `${(m.rows / 1e6).toLocaleString('en-US')} M rows`;
  const k = `${EVENT_LOOP_IN_FLIGHT} in flight`;
  const on = `addIndex (${label(m.index)})`;
  const ranOut = m.before.ranOut || m.build.ranOut || m.after.ranOut;
  return [
    {
      name: `${on} on ${n}, durable inserts ${k}: online build (call to durable) vs the same index built by a fresh recovery`,
      unit: 's',
      tidemark: m.build.seconds,
      baseline: median(m.recovered.map((r) => r.load.indexMs)) / 1000,
      target: { on: 'ratio', compare: 'atMost', value: TARGET_ONLINE_INDEX_RATIO },
    },
    {
      name: `${on}: durable inserts, ${k}, during the build vs before it`,
      unit: 'commits/s',
      tidemark: ranOut ? null : rate(m.build.commits, m.build.seconds),
      baseline: ranOut ? null : rate(m.before.commits, m.before.seconds),
      target: { on: 'ratio', compare: 'atLeast', value: TARGET_COMMITS_DURING_BUILD_RATIO },
    },
    {
      name: `${on}: durable inserts, ${k}, after the build (each commit keeping the index) vs before it`,
      unit: 'commits/s',
      tidemark: ranOut ? null : rate(m.after.commits, m.after.seconds),
      baseline: ranOut ? null : rate(m.before.commits, m.before.seconds),
      target: null,
    },
    {
      name: `${on}: event-loop delay p99, inserts ${k}, during the build vs before it`,
      unit: 'ms',
      tidemark: m.build.loopDelayP99Ms,
      baseline: m.before.loopDelayP99Ms,
      target: { on: 'tidemark', compare: 'atMost', value: TARGET_BUILD_LOOP_DELAY_MS },
    },
    {
      name: `${on}: durable insert latency p99, ${k}, during the build vs before it`,
      unit: 'ms',
      tidemark: m.build.latency.p99Ms,
      baseline: m.before.latency.p99Ms,
      target: null,
    },
  ];
}

function notes(m: Measured): string[] {
  const r = m.recovered;
  const list = (values: number[]): string => values.map((v) => v.toFixed(3)).join(', ');
  const count = (x: number): string => x.toLocaleString('en-US');
  const lines = [
    `${label(m.index)}: before the build (${m.before.seconds.toFixed(2)} s, after ${WARM_MS} ms of inserts) ${count(m.before.commits)} commits, latency p50 ${m.before.latency.p50Ms.toFixed(3)} ms, p99 ${m.before.latency.p99Ms.toFixed(3)} ms, the process's threads busy ${m.before.cpuCores.toFixed(2)} cores of ${availableParallelism()}; during the build (${m.build.seconds.toFixed(2)} s) ${count(m.build.commits)} commits, p50 ${m.build.latency.p50Ms.toFixed(3)} ms, p99 ${m.build.latency.p99Ms.toFixed(3)} ms, ${m.build.cpuCores.toFixed(2)} cores busy; after it ${count(m.after.commits)} commits, p99 ${m.after.latency.p99Ms.toFixed(3)} ms, event-loop delay p99 ${m.after.loopDelayP99Ms.toFixed(3)} ms; ${count(m.inserted)} rows inserted in all. ` +
      `Recovery of the ${count(m.rows + m.inserted)} rows, ${r.length} opens: index build, s: ${list(r.map((x) => x.load.indexMs / 1000))}; pairs loaded, s: ${list(r.map((x) => x.load.loadMs / 1000))}; whole open, s: ${list(r.map((x) => x.seconds))}; recovery workers ${r.map((x) => x.workers).join(', ')}.`,
  ];
  if (m.before.ranOut || m.build.ranOut)
    lines.push(
      'The inserts ran out of rows before the build ended, so the commit rates are not reported: raise --ops.',
    );
  return lines;
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-add-index-'));
  try {
    const input = {
      rows: generateRows(params.rows, params.seed),
      fresh: generateRows(params.ops, params.seed + 1, params.rows + 1),
    };
    const runs: Measured[] = [];
    for (const index of INDEXES) {
      runs.push(await measure(base, index, input, params, log));
      collectGarbage();
    }
    const counts: Record<string, number> = { tableRows: params.rows };
    for (const m of runs) {
      counts[`${m.index.name}RowsInserted`] = m.inserted;
      counts[`${m.index.name}CommitsBefore`] = m.before.commits;
      counts[`${m.index.name}CommitsDuringBuild`] = m.build.commits;
    }
    return {
      figures: runs.flatMap(figures),
      notes: [
        `Files in ${parent}. Rows are { id int32, name string(16), balance float64, ts float64 } (names and balances random), built in transactionSync batches and checkpointed; each index is built on a table of its own. Inserts are single-row and durable, ${EVENT_LOOP_IN_FLIGHT} lanes each keeping one in flight; the build walks the rows there were when it began (the table's and those inserted before it). Recovery: the checkpoint taken after the build (so the index is in its catalog and the WAL after it is empty), each open in a fresh process, page cache warm; the median index build (recovery.checkpoint.indexMs) is the baseline.`,
        ...runs.flatMap(notes),
      ],
      counts,
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export const addIndexWorkload: Workload = {
  name: 'addIndex',
  description:
    'an ordered and a hash index built online under durable inserts at 256 in flight: build time vs a recovery building it; commits/s and event-loop delay during vs before',
  baseline: 'the index built by a fresh recovery (build time), the inserts before the build (commits, delay)',
  // ops: rows the inserts may use; seconds: the "before" window.
  sizes: {
    full: { rows: 5_000_000, ops: 12_000_000, seconds: 3 },
    quick: { rows: 100_000, ops: 1_000_000, seconds: 0.5 },
  },
  run,
};
