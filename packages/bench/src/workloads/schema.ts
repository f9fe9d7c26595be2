/**
 * `schema`: what an online schema change costs on a durable database, and
 * what it leaves behind for reads.
 *
 * A table of N accounts rows (5 M full) is built on disk and checkpointed;
 * then, each change durable (it resolves once its log record is
 * fdatasync'd), nothing else running:
 *
 *   1. addColumn `score float64 nullable`; N/5 rows written after it, with
 *      a score; random gets of the last N/5 rows written before it (read
 *      with score null) against gets of those written after it;
 *   2. dropColumn `name`; N/5 more rows written after it, without a name;
 *      random gets of the N/5 rows written before it (step 1's, which still
 *      hold a name, skipped when read) against gets of these;
 *   3. a checkpoint, then PROBE_ROUNDS rounds of addColumn `probe<i> int32
 *      nullable` and dropColumn `probe<i>`, each timed: the medians are the
 *      commit-time figures. Then as many rounds with delayed durability
 *      (resolved once committed in memory), untargeted: the change's own
 *      work, without the wait for the disk. They come last because a
 *      dropped column keeps its place in rows written after it, which would
 *      make step 1's and 2's "after" rows longer.
 *
 * Each comparison reads two runs of rows written one right after the other:
 * with no change between them, the first 40 K rows of a 200 K-row table
 * read 1.5x as fast as the last 40 K (where a row lies in the arena and in
 * the primary index matters more than its schema version), while two
 * adjacent runs read within a few percent of each other.
 *
 * The same runs on a table of SMALL_ROWS rows, whose medians are the
 * baseline: a change that touched every row would take hundreds of times
 * longer on the big table; one that does not takes as long on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database, Durability, Row, Table } from '@tidemark/core';
import { TARGET_READ_BEFORE_AFTER_RATIO, TARGET_SCHEMA_CHANGE_MS } from '../constants.js';
import { generateRows, openAccounts, rowAt, TABLE, type RowColumns } from '../data.js';
import { collectGarbage, median } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { fillDurable } from './fill_durable.js';
import { compareRanges, READ_ROUNDS, type RangeRates } from './range_gets.js';

/** Rows of the small table, the baseline of the commit times. */
const SMALL_ROWS = 10_000;
/** Rounds of addColumn + dropColumn timed on each table; the median is the figure. */
const PROBE_ROUNDS = 11;
/** Rows written after each change: a fifth of the table. */
const AFTER_SHARE = 5;

/** What one table gave. */
interface TableRun {
  rows: number;
  /** Rows written after each change. */
  after: number;
  /** Step 1 and 2's changes, ms. */
  addScoreMs: number;
  dropNameMs: number;
  /** Gets/s: a = rows written before, b = rows written after; null where reads were not measured. */
  afterAdd: RangeRates | null;
  afterDrop: RangeRates | null;
  /** Step 3's rounds, ms each: durable, then with delayed durability (the change in memory alone). */
  durable: Probes;
  delayed: Probes;
}

interface Probes {
  addMs: number[];
  dropMs: number[];
}

/** How long `change` takes to resolve, in ms. */
async function timed(change: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await change();
  return performance.now() - started;
}

/** Row i as built. */
function asBuilt(rows: RowColumns, i: number): Row {
  return rowAt(rows, i);
}

/** Row i with a score, written after addColumn. */
function withScore(rows: RowColumns, i: number): Row {
  return { ...rowAt(rows, i), score: rows.balances[i]! / 2 };
}

/** Row i without a name, written after dropColumn. */
function withoutName(rows: RowColumns, i: number): Row {
  return { id: rows.ids[i]!, balance: rows.balances[i]!, ts: rows.tss[i]!, score: rows.balances[i]! / 2 };
}

/**
 * Generates `count` rows with ids from `firstId` and inserts them, shaped by
 * `shape`, durably; the generated input is garbage once this returns.
 */
async function fillGenerated(
  db: Database,
  firstId: number,
  count: number,
  seed: number,
  shape: (rows: RowColumns, i: number) => Row,
): Promise<void> {
  const rows = generateRows(count, seed, firstId);
  await fillDurable(db, 0, count, (i) => shape(rows, i));
}

/** Step 3: PROBE_ROUNDS rounds of a column added and dropped, each change timed; names from `prefix`. */
async function probeRounds(table: Table, prefix: string, durability: Durability): Promise<Probes> {
  const options = { durability };
  const addMs: number[] = [];
  const dropMs: number[] = [];
  for (let i = 0; i < PROBE_ROUNDS; i++) {
    const name = `${prefix}${i}`;
    addMs.push(await timed(() => table.addColumn({ name, type: 'int32', nullable: true }, options)));
    dropMs.push(await timed(() => table.dropColumn(name, options)));
  }
  return { addMs, dropMs };
}

/** Steps 1 to 3 on a fresh table of `count` rows in `dir`; reads measured only with `reads`. */
async function measureTable(
  dir: string,
  count: number,
  params: WorkloadParams,
  reads: boolean,
  log: (line: string) => void,
): Promise<TableRun> {
  const after = Math.max(1, Math.floor(count / AFTER_SHARE));
  const n = count.toLocaleString('en-US');
  const db: Database = await openAccounts(dir);
  try {
    const table = db.table(TABLE);
    log(`schema: building ${n} rows on disk`);
    await fillGenerated(db, 1, count, params.seed, asBuilt);
    await db.checkpoint();
    collectGarbage();
    // Rows [first, first + after) were written before the change, the next `after` rows after it.
    const compare = (first: number): RangeRates | null =>
      reads
        ? compareRanges(
            table,
            { first, count: after },
            { first: first + after, count: after },
            params.ops,
            params.seed + 5,
            params.secondsLimit,
          )
        : null;
    log(`schema: ${n} rows: addColumn, ${after.toLocaleString('en-US')} rows written after it${reads ? ', gets' : ''}`);
    const addScoreMs = await timed(() => table.addColumn({ name: 'score', type: 'float64', nullable: true }));
    await fillGenerated(db, count + 1, after, params.seed + 1, withScore);
    const afterAdd = compare(count - after + 1);
    log(
      `schema: ${n} rows: dropColumn, ${after.toLocaleString('en-US')} rows written after it${reads ? ', gets' : ''}`,
    );
    const dropNameMs = await timed(() => table.dropColumn('name'));
    await fillGenerated(db, count + after + 1, after, params.seed + 2, withoutName);
    const afterDrop = compare(count + 1);
    await db.checkpoint();
    collectGarbage();
    log(`schema: ${n} rows: ${PROBE_ROUNDS} rounds of addColumn + dropColumn, each timed, durable then delayed`);
    const durable = await probeRounds(table, 'probe', 'durable');
    const delayed = await probeRounds(table, 'delayed', 'delayed');
    return { rows: count, after, addScoreMs, dropNameMs, afterAdd, afterDrop, durable, delayed };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(big: TableRun, small: TableRun): Figure[] {
  const size = `${(big.rows / 1e6).toLocaleString('en-US')} M rows`;
  const changeTarget = { on: 'tidemark', compare: 'atMost', value: TARGET_SCHEMA_CHANGE_MS } as const;
  const readTarget = { on: 'ratio', compare: 'atLeast', value: TARGET_READ_BEFORE_AFTER_RATIO } as const;
  const count = (x: number): string => x.toLocaleString('en-US');
  const vs = `${size} vs ${count(small.rows)} rows (median of ${PROBE_ROUNDS})`;
  const change = (what: string, pick: (r: TableRun) => number[], target: typeof changeTarget | null): Figure => ({
    name: `${what}: time to commit, ${vs}`,
    unit: 'ms',
    tidemark: median(pick(big)),
    baseline: median(pick(small)),
    target,
  });
  const gets = (what: string, r: RangeRates | null): Figure => ({
    name: `after ${what}: gets of the ${count(big.after)} rows written last before it vs the ${count(big.after)} written first after it`,
    unit: 'gets/s',
    tidemark: r?.a ?? null,
    baseline: r?.b ?? null,
    target: readTarget,
  });
  return [
    change('addColumn (nullable), durable', (r) => r.durable.addMs, changeTarget),
    change('dropColumn, durable', (r) => r.durable.dropMs, changeTarget),
    change('addColumn (nullable), delayed durability: the change in memory', (r) => r.delayed.addMs, null),
    change('dropColumn, delayed durability: the change in memory', (r) => r.delayed.dropMs, null),
    gets('addColumn', big.afterAdd),
    gets('dropColumn', big.afterDrop),
  ];
}

function list(values: readonly number[], digits: number): string {
  return values.map((v) => v.toFixed(digits)).join(', ');
}

function rounds(r: TableRun): string {
  const { durable, delayed } = r;
  return `${r.rows.toLocaleString('en-US')} rows: add ${list(durable.addMs, 3)}, drop ${list(durable.dropMs, 3)}; delayed add ${list(delayed.addMs, 3)}, drop ${list(delayed.dropMs, 3)}.`;
}

function notes(parent: string, params: WorkloadParams, big: TableRun, small: TableRun): string[] {
  const lines = [
    `Files in ${parent}. Rows are { id int32, name string(16), balance float64, ts float64 }, built in transactionSync batches and checkpointed before the first change. A change is timed from the call until it resolves: durable, once its log record is fdatasync'd; delayed, once it is committed in memory.`,
    `Commit times: after steps 1 and 2 and a checkpoint, the generated input freed, ${PROBE_ROUNDS} rounds of addColumn probe<i> (int32, nullable) then dropColumn probe<i>, durable, then ${PROBE_ROUNDS} rounds with delayed durability, nothing else running; the medians are the figures. Each round, ms: ${rounds(big)} ${rounds(small)}`,
    `The first changes (step 1 and 2, right after the build's checkpoint), durable, ms: addColumn score ${big.addScoreMs.toFixed(3)} (${small.addScoreMs.toFixed(3)} on ${small.rows.toLocaleString('en-US')} rows), dropColumn name ${big.dropNameMs.toFixed(3)} (${small.dropNameMs.toFixed(3)}).`,
  ];
  const reads = (what: string, r: RangeRates | null): string =>
    r === null ? '' : ` ${what}: before ${list(r.aRuns, 0)}; after ${list(r.bRuns, 0)} gets/s.`;
  lines.push(
    `Gets: ${params.ops.toLocaleString('en-US')} uniform random gets (whole rows) per turn, over the ${big.after.toLocaleString('en-US')} rows written last before the change and over the ${big.after.toLocaleString('en-US')} written first after it, ${READ_ROUNDS} turns of each in alternation after an untimed one; the medians are the figures.` +
      reads('After addColumn score (rows after it hold a score; rows before it read it as null)', big.afterAdd) +
      reads(
        'After dropColumn name (rows before it still hold a name, skipped; rows after it hold none)',
        big.afterDrop,
      ),
  );
  return lines;
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-schema-'));
  try {
    const big = await measureTable(join(base, 'big'), params.rows, params, true, log);
    collectGarbage();
    const small = await measureTable(join(base, 'small'), Math.min(SMALL_ROWS, params.rows), params, false, log);
    return {
      figures: figures(big, small),
      notes: notes(parent, params, big, small),
      counts: {
        tableRows: big.rows,
        rowsAfterEachChange: big.after,
        smallTableRows: small.rows,
        probeRounds: PROBE_ROUNDS,
      },
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export const schemaWorkload: Workload = {
  name: 'schema',
  description:
    'addColumn and dropColumn on a durable table: time to commit vs a 10 K-row table; gets of rows written before a change vs after it',
  baseline: 'a 10 K-row table (commit times), rows written after the change (gets)',
  sizes: { full: { rows: 5_000_000, ops: 1_000_000 }, quick: { rows: 200_000, ops: 200_000 } },
  run,
};
