/**
 * A secondary ordered index for range scans. An entry's key is the indexed
 * column values followed by the version's versionId (so equal values stay
 * distinct and in commit order), encoded as bytes in value order (see
 * ordered_key.ts) in a ByteTree; its value is the version pointer. As with
 * the hash index, every reachable version has an entry and readers confirm
 * candidates against the row's chain.
 *
 * Values order as: null first, then by type — numbers (NaN after +Infinity),
 * bigints, strings (UTF-16 code unit order), booleans (false < true), bytes
 * (lexicographic, shorter first on a common prefix).
 */
import { ByteTree, compareRanges } from './byte_tree.js';
import { SortedLoad, type SortedRun } from './byte_tree_load.js';
import { MAX, MIN, OrderedKeyWriter } from './ordered_key.js';

export { MAX, MIN };

export type OrderedKey = unknown[];

export class OrderedIndex {
  private readonly tree = new ByteTree();
  private readonly writer = new OrderedKeyWriter();

  get size(): number {
    return this.tree.size;
  }

  /** Adds an entry, or points an existing one (same values and versionId) at `ptr`. */
  add(values: readonly unknown[], versionId: number, ptr: number): void {
    const length = this.writer.entry(values, versionId);
    this.tree.set(ptr, this.writer.buf, 0, length);
  }

  /** Adds an entry whose key is already encoded, as bytes[from, to) (index_entries.ts). */
  addEncoded(bytes: Uint8Array, from: number, to: number, ptr: number): void {
    this.tree.set(ptr, bytes, from, to);
  }

  /** Loads runs of entries sorted by encoded key (values: version pointers) into the empty index, in steps (byte_tree_load.ts). */
  sortedLoad(runs: readonly SortedRun[]): SortedLoad {
    return new SortedLoad(this.tree, runs);
  }

  remove(values: readonly unknown[], versionId: number): void {
    const length = this.writer.entry(values, versionId);
    this.tree.delete(this.writer.buf, 0, length);
  }

  /**
   * Visits entries from `low` to `high` (bound keys built with MIN/MAX
   * sentinels, see rangeBounds, or keys from currentKey), ascending or
   * descending; stops when `visit` returns false. `visit` must not change
   * the index.
   */
  forRange(
    low: OrderedKey | Uint8Array,
    high: OrderedKey | Uint8Array,
    reverse: boolean,
    visit: (ptr: number) => boolean,
  ): void {
    const from = low instanceof Uint8Array ? low : this.writer.bound(low);
    const to = high instanceof Uint8Array ? high : this.writer.bound(high);
    this.tree.forRange(from, to, reverse, visit);
  }

  /** The key of the entry being visited (or visited last) by forRange, a copy a caller may keep. */
  currentKey(): Uint8Array {
    return this.tree.currentKey();
  }

  /** Whether the entry being visited by forRange has the key `key` (from currentKey). */
  currentKeyIs(key: Uint8Array): boolean {
    return this.tree.currentKeyIs(key);
  }
}

export interface RangeBounds {
  gt?: unknown;
  gte?: unknown;
  lt?: unknown;
  lte?: unknown;
}

/** Bound keys for a scan; each bound is a value list (a prefix of the index columns). */
export function rangeBounds(range: RangeBounds, toValues: (bound: unknown) => unknown[]): [OrderedKey, OrderedKey] {
  const low =
    range.gt !== undefined
      ? [...toValues(range.gt), MAX]
      : range.gte !== undefined
        ? [...toValues(range.gte), MIN]
        : [MIN];
  const high =
    range.lt !== undefined
      ? [...toValues(range.lt), MIN]
      : range.lte !== undefined
        ? [...toValues(range.lte), MAX]
        : [MAX];
  return [low, high];
}

export function compareKeys(a: OrderedKey, b: OrderedKey): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function rank(v: unknown): number {
  if (v === MIN) return 0;
  if (v === null || v === undefined) return 1;
  switch (typeof v) {
    case 'number':
      return 2;
    case 'bigint':
      return 3;
    case 'string':
      return 4;
    case 'boolean':
      return 5;
    default:
      return v === MAX ? 7 : 6;
  }
}

export function compareValues(a: unknown, b: unknown): number {
  // Fast path: two values of the same primitive type (the common case by far).
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'number') {
      if (a === b) return 0;
      const aNaN = Number.isNaN(a);
      const bNaN = Number.isNaN(b);
      if (aNaN || bNaN) return aNaN ? (bNaN ? 0 : 1) : -1; // NaN sorts last
      return (a as number) < (b as number) ? -1 : 1;
    }
    if (ta === 'string' || ta === 'bigint') return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
  }
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 2: {
      const x = a as number;
      const y = b as number;
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3:
    case 4:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 5:
      return Number(a) - Number(b);
    case 6:
      return compareRanges(a as Uint8Array, 0, (a as Uint8Array).length, b as Uint8Array, 0, (b as Uint8Array).length);
    default:
      return 0;
  }
}
