/**
 * A secondary ordered index for range scans, on the well-kept `sorted-btree`
 * B+ tree. An entry's key is the indexed column values followed by the
 * version's versionId (so equal values stay distinct and in commit order);
 * its value is the version pointer. As with the hash index, every reachable
 * version has an entry and readers confirm candidates against the row's chain.
 *
 * Values order as: null first, then by type — numbers (NaN after +Infinity),
 * bigints, strings (UTF-16 code unit order), booleans (false < true), bytes
 * (lexicographic, shorter first on a common prefix).
 */
import btree from 'sorted-btree';

// sorted-btree is CommonJS: under Node's ESM loader the default import is its
// module.exports, and the class is that object's `default`.
const BTree = btree.default;
type Tree = ReturnType<typeof makeTree>;

function makeTree() {
  return new BTree<OrderedKey, number>(undefined, compareKeys);
}

/** Sentinels for range bounds: below and above every value. */
export const MIN = Symbol('min');
export const MAX = Symbol('max');

export type OrderedKey = unknown[];

export class OrderedIndex {
  private readonly tree: Tree;

  constructor() {
    this.tree = makeTree();
  }

  get size(): number {
    return this.tree.size;
  }

  add(values: readonly unknown[], versionId: number, ptr: number): void {
    this.tree.set([...values, versionId], ptr);
  }

  remove(values: readonly unknown[], versionId: number): void {
    this.tree.delete([...values, versionId]);
  }

  /**
   * Visits entries from `low` to `high` (bound keys built with MIN/MAX
   * sentinels, see rangeBounds), ascending or descending; stops when `visit`
   * returns false. `visit` also gets the entry's key, which a caller may keep
   * (it is never changed) to resume a range after it.
   */
  forRange(
    low: OrderedKey,
    high: OrderedKey,
    reverse: boolean,
    visit: (ptr: number, key: OrderedKey) => boolean,
  ): void {
    if (!reverse) {
      for (const [key, ptr] of this.tree.entries(low)) {
        if (compareKeys(key, high) > 0 || !visit(ptr, key)) return;
      }
    } else {
      for (const [key, ptr] of this.tree.entriesReversed(high)) {
        if (compareKeys(key, low) < 0 || !visit(ptr, key)) return;
      }
    }
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
      return compareBytes(a as Uint8Array, b as Uint8Array);
    default:
      return 0;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
