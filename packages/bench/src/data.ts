/**
 * The generated data every workload uses: accounts rows
 * `{ id int32, name string(16 ASCII), balance float64, ts float64 }`, made
 * deterministically from a seed so that both sides of a workload, and two
 * runs of the harness, see the very same rows.
 *
 * Rows are held column by column (typed arrays and one array of names) so
 * that the input costs little memory and creating it costs no time inside a
 * measured loop.
 */
import { open, type Database, type OpenOptions, type TableDef } from '@tidemark/core';
import { NAME_CHARS } from './constants.js';

export const TABLE = 'accounts';

export const ACCOUNTS: TableDef = {
  name: TABLE,
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'name', type: 'string' },
    { name: 'balance', type: 'float64' },
    { name: 'ts', type: 'float64' },
  ],
  primaryKey: ['id'],
};

/** A row as the baseline Map holds it (a type, not an interface, so it is a Tidemark Row too). */
export type Account = {
  id: number;
  name: string;
  balance: number;
  ts: number;
};

/** Rows held by column; row i has id `ids[i]`. */
export interface RowColumns {
  readonly count: number;
  readonly ids: Int32Array;
  readonly names: string[];
  readonly balances: Float64Array;
  readonly tss: Float64Array;
}

/** mulberry32: a small, fast, seeded generator of uint32 values. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const EPOCH_MS = Date.UTC(2024, 0, 1);

function makeName(next: () => number, codes: number[]): string {
  for (let i = 0; i < NAME_CHARS; i++) codes[i] = ALPHABET.charCodeAt(next() & 63);
  return String.fromCharCode(...codes);
}

/** A balance in cents, as a float64: up to 1,000,000.00. */
function makeBalance(next: () => number): number {
  return Math.round((next() / 2 ** 32) * 100_000_000) / 100;
}

/** `count` rows with ids `firstId`, `firstId + 1`, ... */
export function generateRows(count: number, seed: number, firstId = 1): RowColumns {
  const next = prng(seed);
  const codes = new Array<number>(NAME_CHARS).fill(0);
  const ids = new Int32Array(count);
  const names = new Array<string>(count);
  const balances = new Float64Array(count);
  const tss = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    ids[i] = firstId + i;
    names[i] = makeName(next, codes);
    balances[i] = makeBalance(next);
    tss[i] = EPOCH_MS + i;
  }
  return { count, ids, names, balances, tss };
}

/** `count` ids drawn uniformly from 1..maxId. */
export function randomIds(count: number, maxId: number, seed: number): Int32Array {
  const next = prng(seed);
  const ids = new Int32Array(count);
  for (let i = 0; i < count; i++) ids[i] = 1 + (next() % maxId);
  return ids;
}

/** `count` balances, for updates. */
export function randomBalances(count: number, seed: number): Float64Array {
  const next = prng(seed);
  const balances = new Float64Array(count);
  for (let i = 0; i < count; i++) balances[i] = makeBalance(next);
  return balances;
}

/**
 * A database holding the empty accounts table. Without `dir` it lives in
 * memory and the log sink discards (the default); with `dir` every commit is
 * logged there.
 */
export function openAccounts(dir?: string, options: OpenOptions = {}): Promise<Database> {
  return open(dir === undefined ? { ...options, tables: [ACCOUNTS] } : { ...options, dir, tables: [ACCOUNTS] });
}

/** Row i as a fresh object, as both sides receive it. */
export function rowAt(rows: RowColumns, i: number): Account {
  return { id: rows.ids[i]!, name: rows.names[i]!, balance: rows.balances[i]!, ts: rows.tss[i]! };
}
