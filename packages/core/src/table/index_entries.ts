/**
 * The entries of a secondary index for a table's versions up to a snapshot,
 * computed from the table's shared arena off the main thread (an index
 * build's worker, workers/src/entries/index_build.ts), so that the main
 * thread only adds them (index_build.ts): for a hash index each version's
 * key hash, for an ordered one its encoded key (ordered_key.ts), sorted, so
 * the tree takes them in order.
 *
 * It reads the arena while the main thread appends to it. What it reads does
 * not change under it: the versions up to the snapshot were all appended
 * before the build began, nothing moves them while a build runs (it counts
 * as an open iterator, which the segment cleaner waits for), and a version
 * only gains the retired flag meanwhile, which the main thread checks again
 * as it adds each entry.
 *
 * The results live in SharedArrayBuffers, so handing them back copies
 * nothing. Every long loop here is paced (threads/pacer.ts), the sort
 * included (index_sort.ts).
 */
import { MAX_KEY_BYTES, VERSION_HEADER_BYTES } from '../constants.js';
import { compareRanges } from '../index/byte_tree.js';
import { keyStart } from '../index/byte_tree_load.js';
import { placeHash } from '../index/hash_index.js';
import { OrderedKeyWriter } from '../index/ordered_key.js';
import { makeRowCodec } from '../schema/codec.js';
import { hashBytes } from '../schema/key_codec.js';
import { schemaFromJson } from '../schema/stored.js';
import { Arena, offsetOf, segmentOf } from './arena.js';
import { ArenaWalk } from './arena_walk.js';
import { sortOrder } from './index_sort.js';
import { PACE_EVERY, Pacer } from '../threads/pacer.js';

export interface IndexEntriesTask {
  /** The arena: each segment's memory and the bytes used in it when the build began. */
  segments: SharedArrayBuffer[];
  used: number[];
  /** The table's stored definition with the index (schema/stored.ts), as JSON. */
  definition: string;
  index: string;
  snapshot: number;
  /**
   * A later round of a deferred build (index_build.ts): the entries of these
   * versions (ptrs[0, count), appended since the last round), instead of a
   * walk up to the snapshot, merged into `base`, the entries so far, if any.
   */
  versions?: { ptrs: Uint32Array; count: number; base: IndexEntries | null } | null;
  /** Instead of computing entries: lays out a hash index's table of these, with this many slots (HashIndex.adopt). */
  hashTable?: { entries: IndexEntries[]; slots: number } | null;
  /** Whether its long loops nap (threads/pacer.ts): the first round's, which is long, while later rounds, short, run flat out. */
  paced?: boolean;
}

export interface IndexEntries {
  count: number;
  /** Version pointers, in the order to add them. */
  ptrs: Uint32Array;
  /** A hash index: each entry's key hash. */
  hashes: Uint32Array | null;
  /** An ordered index: the keys end to end (key i ends at ends[i], and starts where key i - 1 ends). */
  keys: Uint8Array | null;
  ends: Uint32Array | null;
  /** A hash index's table of the entries, when the task asked for it. */
  table?: Uint32Array | null;
}

/** A Uint32Array over shared memory that doubles as it fills. */
export class SharedU32 {
  array = new Uint32Array(new SharedArrayBuffer(4 * 1024));
  length = 0;

  push(value: number): void {
    if (this.length === this.array.length) this.array = grown(this.array, this.length * 2);
    this.array[this.length++] = value;
  }
}

function grown<T extends Uint32Array | Uint8Array>(array: T, size: number): T {
  const next = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(
    new SharedArrayBuffer(size * array.BYTES_PER_ELEMENT),
  );
  next.set(array);
  return next;
}

export function indexEntries(task: IndexEntriesTask): IndexEntries {
  if (task.hashTable != null) return withHashTable(task.hashTable.entries, task.hashTable.slots);
  const schema = schemaFromJson(JSON.parse(task.definition));
  const at = schema?.indexes.findIndex((ix) => ix.name === task.index) ?? -1;
  if (schema === null || at < 0) throw new Error(`index "${task.index}" is not in the definition it came with`);
  const arena = Arena.view(task.segments, task.used);
  const codec = makeRowCodec(schema);
  const keyCodec = codec.indexKeys[at]!;
  const columns = schema.indexes[at]!.columns;
  const ordered = schema.indexes[at]!.kind === 'ordered';
  const ptrs = new SharedU32();
  const hashes = new SharedU32();
  const ends = new SharedU32();
  let keys = new Uint8Array(new SharedArrayBuffer(64 * 1024));
  let used = 0;
  const keyBuf = new Uint8Array(MAX_KEY_BYTES);
  const keyView = new DataView(keyBuf.buffer);
  const writer = new OrderedKeyWriter();
  const pacer = task.paced === true ? new Pacer() : Pacer.NONE;
  let n = 0;
  const entryOf = (ptr: number): void => {
    if (++n % PACE_EVERY === 0) pacer.tick();
    const seg = segmentOf(ptr);
    const from = offsetOf(ptr) + VERSION_HEADER_BYTES;
    const row = codec.decodeColumns(arena.u8s[seg]!, arena.dvs[seg]!, from, arena.payloadLength(ptr), columns);
    ptrs.push(ptr);
    if (!ordered) {
      const length = keyCodec.measureFromRow(row);
      keyCodec.encodeMeasured(keyBuf, keyView, 0);
      hashes.push(hashBytes(keyBuf, 0, length));
      return;
    }
    const length = writer.entry(keyCodec.valuesFromRow(row), arena.versionId(ptr));
    if (used + length > keys.length) keys = grown(keys, Math.max(keys.length * 2, used + length));
    keys.set(writer.buf.subarray(0, length), used);
    used += length;
    ends.push(used);
  };
  const versions = task.versions ?? null;
  if (versions === null) new ArenaWalk(arena, task.snapshot, entryOf).step(Number.POSITIVE_INFINITY);
  else for (let i = 0; i < versions.count; i++) entryOf(versions.ptrs[i]!);
  const count = ptrs.length;
  const entries: IndexEntries = ordered
    ? sortedByKey(count, ptrs.array, keys, ends.array, pacer)
    : { count, ptrs: ptrs.array, hashes: hashes.array, keys: null, ends: null };
  return versions?.base == null ? entries : merged(versions.base, entries, pacer);
}

/** A hash index's table of every entry in `runs`, laid out in `slots` slots, in shared memory (only `table` is set). */
function withHashTable(runs: IndexEntries[], slots: number): IndexEntries {
  const pacer = new Pacer();
  const table = new Uint32Array(new SharedArrayBuffer(slots * 8));
  let count = 0;
  for (const { hashes, ptrs, count: n } of runs) {
    for (let i = 0; i < n; i++) {
      if (i % PACE_EVERY === 0) pacer.tick();
      placeHash(table, slots - 1, hashes![i]!, ptrs[i]!);
    }
    count += n;
  }
  return { count, ptrs: new Uint32Array(0), hashes: null, keys: null, ends: null, table };
}

/** Entries in one SharedArrayBuffer-backed array each, `count` long (at least one element). */
function sharedEntries(count: number, keyBytes: number, ordered: boolean): IndexEntries {
  const u32 = (): Uint32Array => new Uint32Array(new SharedArrayBuffer(Math.max(count, 1) * 4));
  return {
    count,
    ptrs: u32(),
    hashes: ordered ? null : u32(),
    keys: ordered ? new Uint8Array(new SharedArrayBuffer(Math.max(keyBytes, 1))) : null,
    ends: ordered ? u32() : null,
  };
}

/** The entries of `a` and `b` together: a hash index's one after the other, an ordered one's merged in key order. */
export function merged(a: IndexEntries, b: IndexEntries, pacer: Pacer | null = null): IndexEntries {
  const count = a.count + b.count;
  if (a.hashes !== null) {
    const out = sharedEntries(count, 0, false);
    out.ptrs.set(a.ptrs.subarray(0, a.count));
    out.ptrs.set(b.ptrs.subarray(0, b.count), a.count);
    out.hashes!.set(a.hashes.subarray(0, a.count));
    out.hashes!.set(b.hashes!.subarray(0, b.count), a.count);
    return out;
  }
  const aKeys = a.keys!;
  const aEnds = a.ends!;
  const bKeys = b.keys!;
  const bEnds = b.ends!;
  const aBytes = a.count === 0 ? 0 : aEnds[a.count - 1]!;
  const bBytes = b.count === 0 ? 0 : bEnds[b.count - 1]!;
  const out = sharedEntries(count, aBytes + bBytes, true);
  const keys = out.keys!;
  const ends = out.ends!;
  let i = 0;
  let j = 0;
  let used = 0;
  const copy = (src: Uint8Array, from: number, to: number): void => {
    for (let x = from; x < to; x++) keys[used++] = src[x]!;
  };
  for (let k = 0; k < count; k++) {
    if (k % PACE_EVERY === 0) pacer?.tick();
    const aFrom = i < a.count ? keyStart(aEnds, i) : 0;
    const bFrom = j < b.count ? keyStart(bEnds, j) : 0;
    if (j >= b.count || (i < a.count && compareRanges(aKeys, aFrom, aEnds[i]!, bKeys, bFrom, bEnds[j]!) < 0)) {
      copy(aKeys, aFrom, aEnds[i]!);
      out.ptrs[k] = a.ptrs[i++]!;
    } else {
      copy(bKeys, bFrom, bEnds[j]!);
      out.ptrs[k] = b.ptrs[j++]!;
    }
    ends[k] = used;
  }
  return out;
}

/** The ordered entries sorted by key. */
function sortedByKey(
  count: number,
  ptrs: Uint32Array,
  keys: Uint8Array,
  ends: Uint32Array,
  pacer: Pacer,
): IndexEntries {
  const start = (i: number): number => keyStart(ends, i);
  const order = sortOrder(count, keys, ends, pacer);
  const out = sharedEntries(count, count === 0 ? 0 : ends[count - 1]!, true);
  const sortedKeys = out.keys!;
  const sortedEnds = out.ends!;
  let used = 0;
  for (let i = 0; i < count; i++) {
    if (i % PACE_EVERY === 0) pacer.tick();
    const j = order[i]!;
    for (let b = start(j); b < ends[j]!; b++) sortedKeys[used++] = keys[b]!;
    sortedEnds[i] = used;
    out.ptrs[i] = ptrs[j]!;
  }
  return out;
}
