/**
 * Random point gets over two ranges of ids of one table, compared: the
 * `schema` workload reads rows written before a change against rows written
 * after it. Both ranges hold as many rows, each written in one run of
 * inserts (so each lies in one stretch of the arena), and are read by the
 * same loop, in turns (a, b, a, b, ...), so that the machine's drift falls
 * on each alike; the median rate of each is the figure.
 */
import type { Table } from '@tidemark/core';
import { READ_CHUNK_OPS } from '../constants.js';
import { randomIds } from '../data.js';
import { deadlineNs, median, nowNs, pastDeadline, rate, secondsSince } from '../measure.js';

/** Turns of each range; the median is the figure. */
export const READ_ROUNDS = 3;

/** A range of ids, [first, first + count). */
export interface IdRange {
  first: number;
  count: number;
}

/** What one loop did: gets run, in how long, and the sum of the balances read. */
interface GetRun {
  ops: number;
  seconds: number;
  sum: number;
}

/** The rates of the two ranges: each turn's, and the medians. */
export interface RangeRates {
  a: number;
  b: number;
  aRuns: number[];
  bRuns: number[];
}

/** Gets each id in turn, or until the deadline; every id must be found. */
function getLoop(table: Table, ids: Int32Array, seconds: number | null): GetRun {
  const deadline = deadlineNs(seconds);
  const started = nowNs();
  let sum = 0;
  let i = 0;
  while (i < ids.length) {
    const end = Math.min(ids.length, i + READ_CHUNK_OPS);
    for (; i < end; i++) {
      const row = table.get(ids[i]!);
      if (row === undefined) throw new Error(`range gets: row ${ids[i]} is missing`);
      sum += row.balance as number;
    }
    if (pastDeadline(deadline)) break;
  }
  return { ops: i, seconds: secondsSince(started), sum };
}

/** `ops` ids drawn uniformly from `range`. */
function idsIn(range: IdRange, ops: number, seed: number): Int32Array {
  const ids = randomIds(ops, range.count, seed);
  for (let i = 0; i < ids.length; i++) ids[i] = ids[i]! + range.first - 1;
  return ids;
}

/**
 * Gets/s of `ops` random gets in range `a` and in range `b`, READ_ROUNDS
 * turns each, after an untimed turn of each (the JIT).
 */
export function compareRanges(
  table: Table,
  a: IdRange,
  b: IdRange,
  ops: number,
  seed: number,
  seconds: number | null,
): RangeRates {
  const aIds = idsIn(a, ops, seed);
  const bIds = idsIn(b, ops, seed + 1);
  getLoop(table, aIds, seconds);
  getLoop(table, bIds, seconds);
  const aRuns: number[] = [];
  const bRuns: number[] = [];
  for (let round = 0; round < READ_ROUNDS; round++) {
    const x = getLoop(table, aIds, seconds);
    aRuns.push(rate(x.ops, x.seconds));
    const y = getLoop(table, bIds, seconds);
    bRuns.push(rate(y.ops, y.seconds));
  }
  return { a: median(aRuns), b: median(bRuns), aRuns, bRuns };
}
