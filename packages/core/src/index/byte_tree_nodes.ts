/**
 * The nodes of a ByteTree (byte_tree.ts) and the work inside one leaf:
 * finding a key, inserting and removing an entry. A key's head is its first
 * 8 bytes (zeros past its end) as two big-endian uint32s.
 */
/** The head of the key being looked for (set by headOf; nothing here nests). */
export let keyHi = 0;
export let keyLo = 0;

function byteAt(key: Uint8Array, at: number, to: number): number {
  return at < to ? key[at]! : 0;
}

/** Sets keyHi and keyLo to the head of key[from, to). */
export function headOf(key: Uint8Array, from: number, to: number): void {
  if (to - from >= 8) {
    keyHi = ((key[from]! << 24) | (key[from + 1]! << 16) | (key[from + 2]! << 8) | key[from + 3]!) >>> 0;
    keyLo = ((key[from + 4]! << 24) | (key[from + 5]! << 16) | (key[from + 6]! << 8) | key[from + 7]!) >>> 0;
    return;
  }
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = ((hi << 8) | byteAt(key, from + i, to)) >>> 0;
  for (let i = 4; i < 8; i++) lo = ((lo << 8) | byteAt(key, from + i, to)) >>> 0;
  keyHi = hi;
  keyLo = lo;
}

export class Leaf {
  n = 0;
  next: Leaf | null = null;
  prev: Leaf | null = null;

  /**
   * Arrays of `capacity` entries (offs one more); `bytes` may be a view into
   * a larger buffer (a sorted load's keys), replaced by a buffer of its own
   * when it needs room.
   */
  constructor(
    readonly offs: Uint32Array,
    readonly vals: Uint32Array,
    /** Each key's head. */
    readonly hi: Uint32Array,
    readonly lo: Uint32Array,
    public bytes: Uint8Array,
  ) {}

  static empty(capacity: number, byteCapacity: number): Leaf {
    const words = new Uint32Array(4 * capacity + 1);
    return new Leaf(
      words.subarray(0, capacity + 1),
      words.subarray(capacity + 1, 2 * capacity + 1),
      words.subarray(2 * capacity + 1, 3 * capacity + 1),
      words.subarray(3 * capacity + 1),
      new Uint8Array(byteCapacity),
    );
  }

  get used(): number {
    return this.offs[this.n]!;
  }

  /** Room for `more` bytes of keys. */
  reserve(more: number): void {
    const need = this.offs[this.n]! + more;
    if (need <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.offs[this.n]!));
    this.bytes = grown;
  }

  /** Appends entries [from, to) of `src`. */
  appendFrom(src: Leaf, from: number, to: number): void {
    const start = src.offs[from]!;
    const length = src.offs[to]! - start;
    this.reserve(length);
    const base = this.offs[this.n]! - start;
    this.bytes.set(src.bytes.subarray(start, start + length), this.offs[this.n]!);
    for (let i = from; i < to; i++) {
      this.vals[this.n] = src.vals[i]!;
      this.hi[this.n] = src.hi[i]!;
      this.lo[this.n] = src.lo[i]!;
      this.offs[++this.n] = src.offs[i + 1]! + base;
    }
  }
}

export class Branch {
  readonly children: Array<Leaf | Branch> = [];
  /** seps[i] is the first key under children[i + 1]. */
  readonly seps: Uint8Array[] = [];
  /** Each separator's head (see setHeads). */
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;

  constructor(capacity: number) {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
  }

  /** Recomputes the heads after the separators changed (splits and merges only). */
  setHeads(): void {
    this.seps.forEach((sep, i) => {
      headOf(sep, 0, sep.length);
      this.hi[i] = keyHi;
      this.lo[i] = keyLo;
    });
  }
}

export type Node = Leaf | Branch;

/** Compares a[aFrom, aTo) with b[bFrom, bTo). */
export function compareRanges(
  a: Uint8Array,
  aFrom: number,
  aTo: number,
  b: Uint8Array,
  bFrom: number,
  bTo: number,
): number {
  const n = Math.min(aTo - aFrom, bTo - bFrom);
  for (let i = 0; i < n; i++) {
    const d = a[aFrom + i]! - b[bFrom + i]!;
    if (d !== 0) return d;
  }
  return aTo - aFrom - (bTo - bFrom);
}

/** The entry equal to key, or ~(the first entry above it); keyHi and keyLo hold the key's head. */
export function search(leaf: Leaf, key: Uint8Array, from: number, to: number): number {
  const { offs, bytes } = leaf;
  const heads = leaf.hi;
  const lows = leaf.lo;
  const khi = keyHi;
  const klo = keyLo;
  let lo = 0;
  let hi = leaf.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const h = heads[mid]!;
    const c =
      h !== khi
        ? h < khi
          ? -1
          : 1
        : lows[mid] !== klo
          ? lows[mid]! < klo
            ? -1
            : 1
          : compareRanges(bytes, offs[mid]!, offs[mid + 1]!, key, from, to);
    if (c < 0) lo = mid + 1;
    else if (c > 0) hi = mid;
    else return mid;
  }
  return ~lo;
}

/** Moves bytes[from, to) to start at `dest`: a loop for a few (a copyWithin call costs more than it moves). */
function moveBytes(bytes: Uint8Array, dest: number, from: number, to: number): void {
  if (to - from > 256) bytes.copyWithin(dest, from, to);
  else if (dest > from) for (let i = to - 1; i >= from; i--) bytes[dest + i - from] = bytes[i]!;
  else for (let i = from; i < to; i++) bytes[dest + i - from] = bytes[i]!;
}

export function insertAt(leaf: Leaf, at: number, key: Uint8Array, from: number, to: number, value: number): void {
  const length = to - from;
  leaf.reserve(length);
  const { offs, vals, hi, lo, bytes } = leaf;
  const n = leaf.n;
  const start = offs[at]!;
  moveBytes(bytes, start + length, start, offs[n]!);
  for (let i = 0; i < length; i++) bytes[start + i] = key[from + i]!;
  for (let i = n; i > at; i--) {
    offs[i + 1] = offs[i]! + length;
    vals[i] = vals[i - 1]!;
    hi[i] = hi[i - 1]!;
    lo[i] = lo[i - 1]!;
  }
  offs[at + 1] = start + length;
  vals[at] = value;
  hi[at] = keyHi;
  lo[at] = keyLo;
  leaf.n++;
}

export function removeAt(leaf: Leaf, at: number): void {
  const { offs, vals, hi, lo, bytes } = leaf;
  const n = leaf.n;
  const start = offs[at]!;
  const length = offs[at + 1]! - start;
  moveBytes(bytes, start, start + length, offs[n]!);
  for (let i = at; i < n - 1; i++) {
    offs[i + 1] = offs[i + 2]! - length;
    vals[i] = vals[i + 1]!;
    hi[i] = hi[i + 1]!;
    lo[i] = lo[i + 1]!;
  }
  leaf.n--;
}
