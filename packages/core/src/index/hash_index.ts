/**
 * A secondary hash index: an open-addressing multimap (linear probing) from
 * the hash of an index key to version pointers, stored as [hash, pointer]
 * pairs in one Uint32Array. Every version of a row that is still reachable
 * has an entry, so a snapshot reader finds the version it can see; readers
 * confirm a candidate against the row's primary chain and the real key (the
 * hash may collide). Unique or not is the table's business, not the map's.
 *
 * It doubles at once when 3/4 full (unlike the primary index, which grows
 * incrementally): secondary indexes are optional and usually smaller.
 * Deletion shifts entries back, so there are no tombstones.
 */
import { INDEX_INITIAL_SLOTS, INDEX_MAX_LOAD_DEN, INDEX_MAX_LOAD_NUM } from '../constants.js';
import { assert } from '../assert.js';

export class HashIndex {
  private pairs: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialSlots = INDEX_INITIAL_SLOTS) {
    this.pairs = new Uint32Array(initialSlots * 2);
    this.mask = initialSlots - 1;
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.pairs.byteLength;
  }

  add(hash: number, ptr: number): void {
    assert(ptr !== 0, 'index pointer is a version');
    if ((this.count + 1) * INDEX_MAX_LOAD_DEN > (this.mask + 1) * INDEX_MAX_LOAD_NUM) this.grow();
    placeHash(this.pairs, this.mask, hash >>> 0, ptr);
    this.count++;
  }

  /** Calls `visit` with every pointer stored under `hash`; stops early if it returns false. */
  // biome-ignore lint/suspicious/noConfusingVoidType: visitors that never stop early return nothing
  forHash(hash: number, visit: (ptr: number) => boolean | void): void {
    const pairs = this.pairs;
    const h = hash >>> 0;
    for (let i = h & this.mask; pairs[2 * i + 1] !== 0; i = (i + 1) & this.mask) {
      if (pairs[2 * i] === h && visit(pairs[2 * i + 1]!) === false) return;
    }
  }

  /** Swaps the pointer stored under `hash` from `current` to `next` (the cleaner moved the version). */
  replace(hash: number, current: number, next: number): void {
    const pairs = this.pairs;
    const mask = this.mask;
    let i = (hash >>> 0) & mask;
    while (pairs[2 * i + 1] !== current) {
      assert(pairs[2 * i + 1] !== 0, 'secondary index entry exists');
      i = (i + 1) & mask;
    }
    pairs[2 * i + 1] = next;
  }

  remove(hash: number, ptr: number): void {
    const removed = this.removeIfPresent(hash, ptr);
    assert(removed, 'secondary index entry exists');
  }

  /** Removes the entry of `ptr` under `hash`; returns whether there was one. */
  removeIfPresent(hash: number, ptr: number): boolean {
    const pairs = this.pairs;
    const mask = this.mask;
    let i = (hash >>> 0) & mask;
    while (pairs[2 * i + 1] !== ptr) {
      if (pairs[2 * i + 1] === 0) return false;
      i = (i + 1) & mask;
    }
    let j = (i + 1) & mask;
    for (let p = pairs[2 * j + 1]!; p !== 0; p = pairs[2 * j + 1]!) {
      const home = pairs[2 * j]! & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        pairs[2 * i] = pairs[2 * j]!;
        pairs[2 * i + 1] = p;
        i = j;
      }
      j = (j + 1) & mask;
    }
    pairs[2 * i] = 0;
    pairs[2 * i + 1] = 0;
    this.count--;
    return true;
  }

  /** Makes room for `entries` in all without growing again (an index build's, before it adds them). */
  reserve(entries: number): void {
    const slots = HashIndex.slotsFor(entries, this.mask + 1);
    if (slots > this.mask + 1) this.rehash(slots);
  }

  /** The slots a table needs for `entries` without growing: `least` or a power of two times it. */
  static slotsFor(entries: number, least = INDEX_INITIAL_SLOTS): number {
    let slots = least;
    while (entries * INDEX_MAX_LOAD_DEN > slots * INDEX_MAX_LOAD_NUM) slots *= 2;
    return slots;
  }

  /** Takes `pairs`, laid out by placeHash with `count` entries, in place of an empty index's (a build's worker made them). */
  adopt(pairs: Uint32Array, count: number): void {
    assert(this.count === 0, 'an index takes a built table only when empty');
    this.pairs = pairs;
    this.mask = pairs.length / 2 - 1;
    this.count = count;
  }

  private grow(): void {
    this.rehash((this.mask + 1) * 2);
  }

  private rehash(slots: number): void {
    const old = this.pairs;
    this.pairs = new Uint32Array(slots * 2);
    this.mask = slots - 1;
    for (let i = 0; i < old.length; i += 2)
      if (old[i + 1] !== 0) placeHash(this.pairs, this.mask, old[i]!, old[i + 1]!);
  }
}

/** Puts [hash, ptr] in the first empty slot of its probe path; `hash` as a uint32. */
export function placeHash(pairs: Uint32Array, mask: number, hash: number, ptr: number): void {
  let i = hash & mask;
  while (pairs[2 * i + 1] !== 0) i = (i + 1) & mask;
  pairs[2 * i] = hash;
  pairs[2 * i + 1] = ptr;
}
