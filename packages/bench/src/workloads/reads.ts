/**
 * `reads`: random point gets per second over a table of --rows rows.
 *
 * Tidemark decodes each row into a fresh object, `t.get(id)`, and in a second
 * loop only the balance, `t.get(id, { columns: ['balance'] })` (the options
 * object made once, outside the loop). The baseline is `map.get(id)`, which
 * returns the object it already holds. Both loops add up the balances they
 * read, so no read can be optimised away, and the sums are checked equal.
 */
import type { ReadOptions, Table } from '@tidemark/core';
import { READ_CHUNK_OPS, TARGET_GETS_PER_SECOND, WARMUP_OPS } from '../constants.js';
import { generateRows, openAccounts, randomIds, rowAt, TABLE, type Account } from '../data.js';
import { collectGarbage, deadlineNs, nowNs, pastDeadline, rate, secondsSince } from '../measure.js';
import type { Figure, Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { fillTable } from './build.js';

/** What a read loop did: ops run, in how long, and the sum of the balances read. */
interface ReadRun {
  ops: number;
  seconds: number;
  sum: number;
}

const BALANCE_ONLY: ReadOptions = { columns: ['balance'] };

/** Gets each id from the Map in turn, or until the deadline. */
function readMap(map: Map<number, Account>, ids: Int32Array, seconds: number | null): ReadRun {
  const deadline = deadlineNs(seconds);
  const started = nowNs();
  let sum = 0;
  let i = 0;
  while (i < ids.length) {
    const end = Math.min(ids.length, i + READ_CHUNK_OPS);
    for (; i < end; i++) {
      const row = map.get(ids[i]!);
      if (row !== undefined) sum += row.balance;
    }
    if (pastDeadline(deadline)) break;
  }
  return { ops: i, seconds: secondsSince(started), sum };
}

/** Gets each id from the table in turn, or until the deadline. A loop of its own, so the baseline's stays monomorphic. */
function readTable(table: Table, ids: Int32Array, options: ReadOptions | undefined, seconds: number | null): ReadRun {
  const deadline = deadlineNs(seconds);
  const started = nowNs();
  let sum = 0;
  let i = 0;
  while (i < ids.length) {
    const end = Math.min(ids.length, i + READ_CHUNK_OPS);
    for (; i < end; i++) {
      const row = table.get(ids[i]!, options);
      if (row !== undefined) sum += row.balance as number;
    }
    if (pastDeadline(deadline)) break;
  }
  return { ops: i, seconds: secondsSince(started), sum };
}

interface Sides {
  map: Map<number, Account>;
  table: Table;
  close: () => Promise<void>;
}

/** The same rows in a Map and in a Tidemark table. */
async function load(rows: number, seed: number): Promise<Sides> {
  const input = generateRows(rows, seed);
  const map = new Map<number, Account>();
  for (let i = 0; i < rows; i++) map.set(input.ids[i]!, rowAt(input, i));
  const db = await openAccounts();
  fillTable(db, input, rows, null);
  return { map, table: db.table(TABLE), close: () => db.close() };
}

interface Runs {
  map: ReadRun;
  full: ReadRun;
  balance: ReadRun;
}

function measure(sides: Sides, ids: Int32Array, seconds: number | null): Runs {
  const { map, table } = sides;
  const mapRun = readMap(map, ids, seconds);
  const full = readTable(table, ids, undefined, seconds);
  const balance = readTable(table, ids, BALANCE_ONLY, seconds);
  return { map: mapRun, full, balance };
}

function checkSums(runs: Runs): void {
  // Only loops that read the same ids can be compared.
  if (runs.full.ops === runs.map.ops && runs.full.sum !== runs.map.sum) {
    throw new Error(`reads: Tidemark read balances summing to ${runs.full.sum}, the Map ${runs.map.sum}`);
  }
  if (runs.balance.ops === runs.map.ops && runs.balance.sum !== runs.map.sum) {
    throw new Error(`reads: projected reads summed to ${runs.balance.sum}, the Map ${runs.map.sum}`);
  }
}

function figures(runs: Runs): Figure[] {
  const target = { on: 'tidemark', compare: 'atLeast', value: TARGET_GETS_PER_SECOND } as const;
  const baseline = rate(runs.map.ops, runs.map.seconds);
  return [
    { name: 'get, whole row', unit: 'gets/s', tidemark: rate(runs.full.ops, runs.full.seconds), baseline, target },
    {
      name: "get, columns ['balance']",
      unit: 'gets/s',
      tidemark: rate(runs.balance.ops, runs.balance.seconds),
      baseline,
      target,
    },
  ];
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  log(`reads: loading ${params.rows.toLocaleString('en-US')} rows into a Map and a Tidemark table`);
  const sides = await load(params.rows, params.seed);
  const warmIds = randomIds(Math.min(WARMUP_OPS, params.ops), params.rows, params.seed + 3);
  measure(sides, warmIds, null);
  collectGarbage();
  log(`reads: ${params.ops.toLocaleString('en-US')} random gets on each side`);
  const runs = measure(sides, randomIds(params.ops, params.rows, params.seed + 4), params.secondsLimit);
  checkSums(runs);
  await sides.close();
  return {
    figures: figures(runs),
    counts: {
      tableRows: params.rows,
      baselineGets: runs.map.ops,
      tidemarkGets: runs.full.ops,
      tidemarkBalanceGets: runs.balance.ops,
    },
    notes: [
      'Order: the Map and the table are loaded together; then Map gets, Tidemark whole-row gets, Tidemark balance-only gets.',
      'Ids are uniform random over the table; each side reads the same ids and sums the balances (checked equal).',
      'Tidemark decodes a fresh object per get; the Map returns the object it holds. Both compare against the one Map loop.',
      `An untimed warm-up of ${Math.min(WARMUP_OPS, params.ops).toLocaleString('en-US')} gets per loop runs first.`,
    ],
  };
}

export const readsWorkload: Workload = {
  name: 'reads',
  description: 'random point gets (whole row and one column) over a table of --rows rows vs Map.get',
  sizes: { full: { rows: 1_000_000, ops: 1_000_000 }, quick: { rows: 200_000, ops: 500_000 } },
  run,
};
