/**
 * The primary index: an open-addressing hash table (linear probing) over a
 * Uint32Array of version pointers, one slot per row, pointing at the row's
 * newest version. It stores no hashes and no keys: a key is compared against
 * the key prefix of the row bytes in the arena, and a hash is recomputed from
 * them when an entry moves. That keeps it at 4 bytes a slot.
 *
 * Growth is incremental so that no insert pays for a whole rehash: when the
 * load passes 3/4, a table twice the size becomes current and every write
 * moves INDEX_MIGRATE_SLOTS_PER_WRITE slots of the old table into it.
 *
 *   current  [ . A . . C . . . B . . . . . . . ]   inserts go here; deletes shift back
 *   old      [ x x x x|A . B C ]                   slots left of `migrated` are copies;
 *                      ^ migrated                  right of it live; deletes leave TOMB
 *
 * Invariants: a key is in at most one live slot across both tables; slot
 * values are 0 (empty), 1 (tombstone, old table only) or a version pointer;
 * the old table is gone before the current one reaches its load limit.
 */
import { assert } from '../assert.js';
import {
  INDEX_INITIAL_SLOTS,
  INDEX_MAX_LOAD_DEN,
  INDEX_MAX_LOAD_NUM,
  INDEX_MIGRATE_SLOTS_PER_WRITE,
  VERSION_HEADER_BYTES,
} from '../constants.js';
import { type Arena, offsetOf, segmentOf } from '../table/arena.js';

const EMPTY = 0;
const TOMB = 1;

export class PrimaryIndex {
  private slots: Uint32Array;
  private mask: number;
  private old: Uint32Array | null = null;
  /** During a bulk load only: the top byte of each slot's hash (see beginBulk). */
  private tags: Uint8Array | null = null;
  private oldMask = 0;
  private migrated = 0;
  private count = 0;
  /** Where prefetch() leaves what it read, so the reads are not optimized away. */
  prefetched = 0;

  /** `hashAt(ptr)` hashes the key of the version at ptr the way callers hash keys. */
  constructor(
    private readonly arena: Arena,
    private readonly hashAt: (ptr: number) => number,
    initialSlots = INDEX_INITIAL_SLOTS,
  ) {
    this.slots = new Uint32Array(initialSlots);
    this.mask = initialSlots - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of the slot arrays (both tables while growing). */
  get bytes(): number {
    return this.slots.byteLength + (this.old?.byteLength ?? 0);
  }

  /** The pointer stored for `key` (its encoded bytes), or 0. */
  find(hash: number, key: Uint8Array, keyOffset: number, keyLength: number): number {
    const found = this.probe(this.slots, this.mask, 0, hash, key, keyOffset, keyLength);
    if (found !== EMPTY || this.old === null) return found;
    return this.probe(this.old, this.oldMask, this.migrated, hash, key, keyOffset, keyLength);
  }

  /** Adds a pointer for a key that is not in the index. */
  insert(hash: number, ptr: number): void {
    assert(ptr > TOMB && this.tags === null, 'index pointer is a version, outside a bulk load');
    this.step();
    if (this.old === null && (this.count + 1) * INDEX_MAX_LOAD_DEN > this.slots.length * INDEX_MAX_LOAD_NUM)
      this.grow();
    place(this.slots, this.mask, hash, ptr);
    this.count++;
  }

  /**
   * Makes room for `more` entries at once, with no growth under way after it
   * (recovery sizes the index before it loads rows; a full rehash, not the
   * incremental one).
   */
  reserve(more: number): void {
    const wanted = this.count + more;
    if (this.old === null && wanted * INDEX_MAX_LOAD_DEN <= this.slots.length * INDEX_MAX_LOAD_NUM) return;
    let size = this.slots.length;
    while (wanted * INDEX_MAX_LOAD_DEN > size * INDEX_MAX_LOAD_NUM) size *= 2;
    const next = new Uint32Array(size);
    const tags = this.tags === null ? null : new Uint8Array(size);
    this.forEach((ptr) => {
      const hash = this.hashAt(ptr);
      const slot = place(next, size - 1, hash, ptr);
      if (tags !== null) tags[slot] = hash >>> 24;
    });
    this.slots = next;
    this.tags = tags;
    this.mask = size - 1;
    this.old = null;
    this.migrated = 0;
  }

  /**
   * Starts a bulk load (recovery): until endBulk(), a byte per slot holds the
   * top 8 bits of its entry's hash, so insertNew compares the keys of only
   * the 1 in 256 entries on its probe path whose tag matches, instead of
   * reading every one of them from the arena. Costs a byte per slot while it lasts.
   */
  beginBulk(): void {
    if (this.tags !== null) return;
    this.reserve(0);
    this.tags = new Uint8Array(this.slots.length);
    if (this.count === 0) return; // an empty index (a fresh open): no tags to fill, and no need to visit every slot
    const tags = this.tags;
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i]! > TOMB) tags[i] = this.hashAt(this.slots[i]!) >>> 24;
  }

  /**
   * Reads the home slot (and tag) of `count` hashes from words[at] on,
   * before they are inserted or repointed (recovery's linking, the segment
   * cleaner): the loads are independent, so the CPU overlaps their cache
   * misses, and the probes that follow find the lines in cache (a probe
   * waits for one miss at a time).
   */
  prefetch(words: Uint32Array, at: number, count: number): void {
    const slots = this.slots;
    const tags = this.tags;
    const mask = this.mask;
    let sink = 0;
    for (let k = at, end = at + count; k < end; k++) {
      const i = words[k]! & mask;
      sink |= slots[i]!;
      if (tags !== null) sink |= tags[i]!;
    }
    this.prefetched = sink;
  }

  endBulk(): void {
    this.tags = null;
  }

  /**
   * Adds `ptr` (whose key is the first `keyLength` bytes of its payload)
   * unless the index holds that key already; returns false then. Needs the
   * room made by reserve(): no growth happens here.
   */
  insertNew(hash: number, ptr: number, keyLength: number): boolean {
    assert(
      this.old === null && (this.count + 1) * INDEX_MAX_LOAD_DEN <= this.slots.length * INDEX_MAX_LOAD_NUM,
      'reserve() before insertNew()',
    );
    const slots = this.slots;
    const tags = this.tags;
    const mask = this.mask;
    const tag = hash >>> 24;
    const u8 = this.arena.u8s[segmentOf(ptr)]!;
    const at = offsetOf(ptr) + VERSION_HEADER_BYTES;
    let i = hash & mask;
    for (let v = slots[i]!; v !== EMPTY; v = slots[i]!) {
      if ((tags === null || tags[i] === tag) && this.matches(v, u8, at, keyLength)) return false;
      i = (i + 1) & mask;
    }
    slots[i] = ptr;
    if (tags !== null) tags[i] = tag;
    this.count++;
    return true;
  }

  /** Swaps the pointer stored for a key (found by its current pointer). */
  replace(hash: number, current: number, next: number): void {
    const [table, slot] = this.locate(hash, current);
    table[slot] = next;
  }

  /** Swaps `current` for `next` if an entry holds `current` (it is a row's newest version); returns whether one did. */
  replaceIfPresent(hash: number, current: number, next: number): boolean {
    const slots = this.slots;
    for (let i = hash & this.mask, v = slots[i]!; v !== EMPTY; i = (i + 1) & this.mask, v = slots[i]!) {
      if (v === current) {
        slots[i] = next;
        return true;
      }
    }
    const old = this.old;
    if (old === null) return false;
    for (let i = hash & this.oldMask, v = old[i]!; v !== EMPTY; i = (i + 1) & this.oldMask, v = old[i]!) {
      if (v === current && i >= this.migrated) {
        old[i] = next;
        return true;
      }
    }
    return false;
  }

  /** Removes the entry that holds `current`. */
  remove(hash: number, current: number): void {
    assert(this.tags === null, 'no removal during a bulk load');
    const [table, slot] = this.locate(hash, current);
    if (table === this.old) table[slot] = TOMB;
    else this.shiftBack(slot);
    this.count--;
    this.step();
  }

  /** Calls `visit` with every stored pointer, in slot order. */
  forEach(visit: (ptr: number) => void): void {
    for (const ptr of this.slots) if (ptr > TOMB) visit(ptr);
    const old = this.old;
    if (old !== null) for (let i = this.migrated; i < old.length; i++) if (old[i]! > TOMB) visit(old[i]!);
  }

  private probe(
    table: Uint32Array,
    mask: number,
    from: number,
    hash: number,
    key: Uint8Array,
    keyOffset: number,
    keyLength: number,
  ): number {
    let i = hash & mask;
    for (;;) {
      const ptr = table[i]!;
      if (ptr === EMPTY) return EMPTY;
      if (ptr !== TOMB && i >= from && this.matches(ptr, key, keyOffset, keyLength)) return ptr;
      i = (i + 1) & mask;
    }
  }

  private matches(ptr: number, key: Uint8Array, keyOffset: number, keyLength: number): boolean {
    // Key encodings are prefix-free, so equal leading bytes mean equal keys.
    const u8 = this.arena.u8s[segmentOf(ptr)]!;
    const at = offsetOf(ptr) + VERSION_HEADER_BYTES;
    for (let i = 0; i < keyLength; i++) if (u8[at + i] !== key[keyOffset + i]) return false;
    return true;
  }

  private locate(hash: number, ptr: number): [Uint32Array, number] {
    let i = hash & this.mask;
    for (let v = this.slots[i]!; v !== EMPTY; v = this.slots[i]!) {
      if (v === ptr) return [this.slots, i];
      i = (i + 1) & this.mask;
    }
    const old = this.old;
    assert(old !== null, 'index entry exists');
    i = hash & this.oldMask;
    for (let v = old[i]!; v !== EMPTY; v = old[i]!) {
      if (v === ptr && i >= this.migrated) return [old, i];
      i = (i + 1) & this.oldMask;
    }
    assert(false, 'index entry exists');
  }

  /** Backward-shift deletion: keeps every probe chain unbroken without tombstones. */
  private shiftBack(hole: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hole;
    let j = (i + 1) & mask;
    for (let ptr = slots[j]!; ptr !== EMPTY; ptr = slots[j]!) {
      const home = this.hashAt(ptr) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[i] = ptr;
        i = j;
      }
      j = (j + 1) & mask;
    }
    slots[i] = EMPTY;
  }

  private grow(): void {
    this.old = this.slots;
    this.oldMask = this.mask;
    this.migrated = 0;
    this.slots = new Uint32Array(this.old.length * 2);
    this.mask = this.slots.length - 1;
  }

  private step(): void {
    const old = this.old;
    if (old === null) return;
    const end = Math.min(old.length, this.migrated + INDEX_MIGRATE_SLOTS_PER_WRITE);
    for (let i = this.migrated; i < end; i++) {
      const ptr = old[i]!;
      if (ptr > TOMB) place(this.slots, this.mask, this.hashAt(ptr), ptr);
    }
    this.migrated = end;
    if (end === old.length) this.old = null;
  }
}

/** Puts ptr in the first empty slot of its probe path; returns the slot. */
function place(table: Uint32Array, mask: number, hash: number, ptr: number): number {
  let i = hash & mask;
  while (table[i] !== EMPTY) i = (i + 1) & mask;
  table[i] = ptr;
  return i;
}
