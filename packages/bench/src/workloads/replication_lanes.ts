/**
 * What the `replication` workload's loops share: the table of 100-byte rows
 * they upsert into, the closed loop that keeps K operations in flight for a
 * warm-up and a measured window, the interleaved order of A/B runs, and the
 * size of one commit's log record.
 *
 * A window counts the operations that resolve inside it (whenever they
 * started), and the latency (call to resolve) of each of them, so a rate is
 * resolves per second of the window while K are kept in flight throughout.
 */
import { open, replicationPort, type Database, type TableDef } from '@tidemark/core';
import type { RowColumns } from '../data.js';
import { latencyHistogram, latencySummary, median, recordMs, type LatencySummary } from '../measure.js';

export const LEDGER = 'ledger';

/** 100 bytes of values a row: int32 (4) + string(16) + float64 (8) + float64 (8) + string(64). */
export const LEDGER_DEF: TableDef = {
  name: LEDGER,
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'balance', type: 'float64' },
    { name: 'ts', type: 'float64' },
    { name: 'memo', type: 'string' },
  ],
  primaryKey: ['id'],
};
export const ROW_VALUE_BYTES = 100;
/** The memo is the row's 16-character name four times over: 64 ASCII bytes. */
const MEMO_REPEAT = 4;

export type LedgerRow = { id: number; name: string; balance: number; ts: number; memo: string };

/** Row `i mod rows.count` of `rows`, as a fresh object: upserts cycle over the key space. */
export function ledgerRow(rows: RowColumns, i: number): LedgerRow {
  const k = i % rows.count;
  const name = rows.names[k]!;
  return { id: rows.ids[k]!, name, balance: rows.balances[k]!, ts: rows.tss[k]!, memo: name.repeat(MEMO_REPEAT) };
}

/** A database in `dir` holding the empty ledger table. */
export function openLedger(dir: string): Promise<Database> {
  return open({ dir, tables: [LEDGER_DEF] });
}

/** One measured window of K operations in flight. */
export interface Window {
  /** Operations resolved inside the window. */
  ops: number;
  seconds: number;
  latency: LatencySummary;
  /** performance.now() at the window's start and end. */
  from: number;
  until: number;
}

export function windowRate(w: Window): number {
  return w.seconds > 0 ? w.ops / w.seconds : 0;
}

/**
 * Keeps `inFlight` calls of `op` outstanding (each lane starts the next
 * when its call resolves) for `warmMs`, then for a window of `seconds`;
 * no lane starts a call after the window. The first failure ends the loop
 * and is thrown.
 */
export async function runWindow(
  inFlight: number,
  warmMs: number,
  seconds: number,
  op: (i: number) => Promise<unknown>,
): Promise<Window> {
  const histogram = latencyHistogram();
  const from = performance.now() + warmMs;
  const until = from + seconds * 1000;
  let next = 0;
  let ops = 0;
  let failed = false;
  let failure: unknown = null;
  const lane = async (): Promise<void> => {
    while (!failed) {
      const began = performance.now();
      if (began >= until) return;
      await op(next++);
      const ended = performance.now();
      if (ended >= from && ended < until) {
        ops++;
        recordMs(histogram, ended - began);
      }
    }
  };
  const lanes = Array.from({ length: inFlight }, () =>
    lane().catch((error: unknown) => {
      if (!failed) failure = error;
      failed = true;
    }),
  );
  await Promise.all(lanes);
  if (failed) throw failure;
  return { ops, seconds, latency: latencySummary(histogram), from, until };
}

/**
 * The order of 2 x `runs` interleaved runs of two sides, false (A) and true
 * (B): A B B A A B ..., so that the machine's drift over the runs falls on
 * both sides alike.
 */
export function interleaved(runs: number): boolean[] {
  const order: boolean[] = [];
  for (let i = 0; i < runs; i++) order.push(...(i % 2 === 0 ? [false, true] : [true, false]));
  return order;
}

/** The median rate, p50 and p99 of some windows, and each run's. */
export interface Runs {
  windows: Window[];
  rate: number;
  p50Ms: number;
  p99Ms: number;
}

export function runsOf(windows: Window[]): Runs {
  return {
    windows,
    rate: median(windows.map(windowRate)),
    p50Ms: median(windows.map((w) => w.latency.p50Ms)),
    p99Ms: median(windows.map((w) => w.latency.p99Ms)),
  };
}

/** Each run's rate, then its p50 / p99, for the notes. */
export function describeRuns(runs: Runs, unit: string): string {
  const rates = runs.windows.map((w) => Math.round(windowRate(w)).toLocaleString('en-US')).join(', ');
  const lat = runs.windows.map((w) => `${w.latency.p50Ms.toFixed(2)}/${w.latency.p99Ms.toFixed(2)}`).join(', ');
  return `${rates} ${unit} (median ${Math.round(runs.rate).toLocaleString('en-US')}), p50/p99 ms ${lat}`;
}

/**
 * The bytes of the log record of one single-row upsert into the ledger
 * table, read back through the replication port of a throwaway database
 * in `dir`, plus the 4-byte length a record carries in a shipped message.
 */
export async function recordBytes(dir: string, row: LedgerRow): Promise<number> {
  const db = await openLedger(dir);
  try {
    const commitTs = await db.table(LEDGER).upsert(row);
    // Leaving the loop ends the feed (its return()).
    for await (const record of replicationPort(db).records(0, 'record-size'))
      if (record.commitTs === commitTs) return 4 + record.body.length;
    throw new Error(`the record of commit ${commitTs} was not found`);
  } finally {
    await db.close();
  }
}
