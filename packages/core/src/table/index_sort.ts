/**
 * The order an index build adds an ordered index's entries in: its keys'
 * byte order (index_entries.ts), found with a native sort of packed
 * prefixes. A paced build sorts in blocks with naps between them and merges
 * the blocks in JavaScript (threads/pacer.ts): one native sort of millions
 * would hold a core for half a second.
 */
import { compareRanges } from '../index/byte_tree.js';
import { keyStart } from '../index/byte_tree_load.js';
import { PACE_EVERY, type Pacer } from '../threads/pacer.js';

/** Values sorted natively at once, between two naps of a paced sort. */
const SORT_BLOCK = 1 << 15;

/** Entries this many or more are sorted by comparing keys alone (an entry number no longer fits beside a prefix). */
const PACKED_ENTRIES = 2 ** 24;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * The entry numbers in key order. Each entry becomes a uint64 of its key's
 * first 5 bytes (zeros past its end) over its 24-bit number, sorted as
 * numbers (natively, no comparator called); runs that share a prefix are
 * then sorted by comparing whole keys.
 */
export function sortOrder(count: number, keys: Uint8Array, ends: Uint32Array, pacer: Pacer | null = null): Uint32Array {
  const start = (i: number): number => keyStart(ends, i);
  const byKey = (a: number, b: number): number => compareRanges(keys, start(a), ends[a]!, keys, start(b), ends[b]!);
  const order = new Uint32Array(count);
  if (count >= PACKED_ENTRIES || !LITTLE_ENDIAN) {
    for (let i = 0; i < count; i++) order[i] = i;
    return order.sort(byKey);
  }
  const packed = new BigUint64Array(count);
  const halves = new Uint32Array(packed.buffer); // little-endian: [low, high] per entry
  const byte = (i: number, k: number): number => (start(i) + k < ends[i]! ? keys[start(i) + k]! : 0);
  for (let i = 0; i < count; i++) {
    if (i % PACE_EVERY === 0) pacer?.tick();
    halves[2 * i + 1] = ((byte(i, 0) << 24) | (byte(i, 1) << 16) | (byte(i, 2) << 8) | byte(i, 3)) >>> 0;
    halves[2 * i] = ((byte(i, 4) << 24) | i) >>> 0;
  }
  const sorted = sortPacked(packed, pacer);
  const sortedHalves = new Uint32Array(sorted.buffer);
  for (let k = 0; k < count; k++) order[k] = sortedHalves[2 * k]! & 0xffffff;
  for (let k = 0; k < count; ) {
    pacer?.tick();
    let end = k + 1;
    const high = sortedHalves[2 * k + 1]!;
    const fifth = sortedHalves[2 * k]! >>> 24;
    while (end < count && sortedHalves[2 * end + 1] === high && sortedHalves[2 * end]! >>> 24 === fifth) end++;
    if (end - k > 1) order.subarray(k, end).sort(byKey);
    k = end;
  }
  return order;
}

/**
 * `packed` sorted ascending: at once, or, paced, in blocks of SORT_BLOCK
 * and then merged pass by pass (the result may be another array).
 */
function sortPacked(packed: BigUint64Array, pacer: Pacer | null): BigUint64Array {
  const count = packed.length;
  if (pacer === null || count <= SORT_BLOCK) return packed.sort();
  for (let from = 0; from < count; from += SORT_BLOCK) {
    packed.subarray(from, from + SORT_BLOCK).sort();
    pacer.tick();
  }
  let src: BigUint64Array = packed;
  let dst: BigUint64Array = new BigUint64Array(count);
  for (let width = SORT_BLOCK; width < count; width *= 2) {
    const a = new Uint32Array(src.buffer);
    const out = new Uint32Array(dst.buffer);
    for (let from = 0; from < count; from += 2 * width) {
      const mid = Math.min(from + width, count);
      const to = Math.min(from + 2 * width, count);
      let i = from;
      let j = mid;
      for (let k = from; k < to; k++) {
        if (k % PACE_EVERY === 0) pacer.tick();
        // [low, high] per value: compare the high halves, then the low.
        const fromLeft =
          j >= to ||
          (i < mid && (a[2 * i + 1]! < a[2 * j + 1]! || (a[2 * i + 1] === a[2 * j + 1] && a[2 * i]! <= a[2 * j]!)));
        const at = fromLeft ? i++ : j++;
        out[2 * k] = a[2 * at]!;
        out[2 * k + 1] = a[2 * at + 1]!;
      }
    }
    const done = dst;
    dst = src;
    src = done;
  }
  return src;
}
