/**
 * The primary index: an open-addressing hash table (linear probing) over a
 * Uint32Array of version pointers, one slot per row, pointing at the row's
 * newest version, and beside it each entry's 32-bit hash. It stores no
 * keys: a key is compared against the key prefix of the row bytes in the
 * arena, only for the entries on a probe path whose hash matches. 8 bytes a
 * slot. The hashes spare the arena two ways: a lookup that misses (every
 * insert's duplicate check) skips the entries on its path without reading
 * their rows, and an entry moves (growth, a delete's backward shift)
 * without its hash being recomputed from its row. Keeping only the top byte
 * of each hash (5 bytes a slot, until 2026-12-07) did the first but not the
 * second: growing a table of 8 M slots read 6 M rows at random from the
 * arena, and the inserts that moved them ran at half their rate for
 * seconds.
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
  /** Each slot's hash, for `slots` and for `old`. */
  private hashes: Uint32Array;
  private oldHashes: Uint32Array | null = null;
  private oldMask = 0;
  private migrated = 0;
  private count = 0;
  /** Where prefetch() leaves what it read, so the reads are not optimized away. */
  prefetched = 0;

  constructor(
    private readonly arena: Arena,
    initialSlots = INDEX_INITIAL_SLOTS,
  ) {
    this.slots = new Uint32Array(initialSlots);
    this.hashes = new Uint32Array(initialSlots);
    this.mask = initialSlots - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of the slot and hash arrays (both tables while growing). */
  get bytes(): number {
    return (
      this.slots.byteLength + this.hashes.byteLength + (this.old?.byteLength ?? 0) + (this.oldHashes?.byteLength ?? 0)
    );
  }

  /** The pointer stored for `key` (its encoded bytes), or 0. */
  find(hash: number, key: Uint8Array, keyOffset: number, keyLength: number): number {
    const found = this.probe(this.slots, null, this.mask, 0, hash, key, keyOffset, keyLength);
    if (found !== EMPTY || this.old === null) return found;
    return this.probe(this.old, null, this.oldMask, this.migrated, hash, key, keyOffset, keyLength);
  }

  /**
   * find() for a key that is most likely absent (an insert's duplicate check):
   * the entries on its path are skipped by their hashes, without reading the
   * arena. A lookup that hits reads the arena anyway, and the hashes would be
   * one more cache line: find() leaves them alone (docs/decisions.md).
   */
  findAbsent(hash: number, key: Uint8Array, keyOffset: number, keyLength: number): number {
    const found = this.probe(this.slots, this.hashes, this.mask, 0, hash, key, keyOffset, keyLength);
    if (found !== EMPTY || this.old === null) return found;
    return this.probe(this.old, this.oldHashes!, this.oldMask, this.migrated, hash, key, keyOffset, keyLength);
  }

  /** Adds a pointer for a key that is not in the index. */
  insert(hash: number, ptr: number): void {
    assert(ptr > TOMB, 'index pointer is a version');
    this.step();
    if (this.old === null && (this.count + 1) * INDEX_MAX_LOAD_DEN > this.slots.length * INDEX_MAX_LOAD_NUM)
      this.grow();
    place(this.slots, this.hashes, this.mask, hash, ptr);
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
    const hashes = new Uint32Array(size);
    this.forEachHashed((ptr, hash) => place(next, hashes, size - 1, hash, ptr));
    this.slots = next;
    this.hashes = hashes;
    this.mask = size - 1;
    this.old = null;
    this.oldHashes = null;
    this.migrated = 0;
  }

  /** Starts a bulk load (recovery): finishes any growth under way, so that insertNew may run (after reserve()). */
  beginBulk(): void {
    this.reserve(0);
  }

  /**
   * Reads the home slot (and hash) of `count` hashes from words[at] on,
   * before they are inserted or repointed (recovery's linking, the segment
   * cleaner): the loads are independent, so the CPU overlaps their cache
   * misses, and the probes that follow find the lines in cache (a probe
   * waits for one miss at a time).
   */
  prefetch(words: Uint32Array, at: number, count: number): void {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    let sink = 0;
    for (let k = at, end = at + count; k < end; k++) {
      const i = words[k]! & mask;
      sink |= slots[i]! | hashes[i]!;
    }
    this.prefetched = sink;
  }

  /** Ends a bulk load (nothing to undo: the hashes are kept always). */
  endBulk(): void {}

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
    const hashes = this.hashes;
    const mask = this.mask;
    const u8 = this.arena.u8s[segmentOf(ptr)]!;
    const at = offsetOf(ptr) + VERSION_HEADER_BYTES;
    const stored = hash >>> 0; // as a Uint32Array holds it
    let i = hash & mask;
    for (let v = slots[i]!; v !== EMPTY; v = slots[i]!) {
      if (hashes[i] === stored && this.matches(v, u8, at, keyLength)) return false;
      i = (i + 1) & mask;
    }
    slots[i] = ptr;
    hashes[i] = hash;
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
    const [table, slot] = this.locate(hash, current);
    if (table === this.old) table[slot] = TOMB;
    else this.shiftBack(slot);
    this.count--;
    this.step();
  }

  /** Calls `visit` with every stored pointer, in slot order. */
  forEach(visit: (ptr: number) => void): void {
    this.forEachHashed(visit);
  }

  private forEachHashed(visit: (ptr: number, hash: number) => void): void {
    const { slots, hashes } = this;
    for (let i = 0; i < slots.length; i++) if (slots[i]! > TOMB) visit(slots[i]!, hashes[i]!);
    const old = this.old;
    const oldHashes = this.oldHashes!;
    if (old !== null)
      for (let i = this.migrated; i < old.length; i++) if (old[i]! > TOMB) visit(old[i]!, oldHashes[i]!);
  }

  private probe(
    table: Uint32Array,
    hashes: Uint32Array | null,
    mask: number,
    from: number,
    hash: number,
    key: Uint8Array,
    keyOffset: number,
    keyLength: number,
  ): number {
    const stored = hash >>> 0; // as a Uint32Array holds it
    let i = hash & mask;
    for (;;) {
      const ptr = table[i]!;
      if (ptr === EMPTY) return EMPTY;
      if (
        (hashes === null || hashes[i] === stored) &&
        ptr !== TOMB &&
        i >= from &&
        this.matches(ptr, key, keyOffset, keyLength)
      )
        return ptr;
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
    const hashes = this.hashes;
    const mask = this.mask;
    let i = hole;
    let j = (i + 1) & mask;
    for (let ptr = slots[j]!; ptr !== EMPTY; ptr = slots[j]!) {
      const home = hashes[j]! & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[i] = ptr;
        hashes[i] = hashes[j]!;
        i = j;
      }
      j = (j + 1) & mask;
    }
    slots[i] = EMPTY;
    hashes[i] = 0;
  }

  private grow(): void {
    this.old = this.slots;
    this.oldHashes = this.hashes;
    this.oldMask = this.mask;
    this.migrated = 0;
    this.slots = new Uint32Array(this.old.length * 2);
    this.hashes = new Uint32Array(this.slots.length);
    this.mask = this.slots.length - 1;
  }

  private step(): void {
    const old = this.old;
    if (old === null) return;
    const oldHashes = this.oldHashes!;
    const end = Math.min(old.length, this.migrated + INDEX_MIGRATE_SLOTS_PER_WRITE);
    for (let i = this.migrated; i < end; i++) {
      const ptr = old[i]!;
      if (ptr > TOMB) place(this.slots, this.hashes, this.mask, oldHashes[i]!, ptr);
    }
    this.migrated = end;
    if (end === old.length) {
      this.old = null;
      this.oldHashes = null;
    }
  }
}

/** Puts ptr, and its hash, in the first empty slot of its probe path. */
function place(table: Uint32Array, hashes: Uint32Array, mask: number, hash: number, ptr: number): void {
  let i = hash & mask;
  while (table[i] !== EMPTY) i = (i + 1) & mask;
  table[i] = ptr;
  hashes[i] = hash;
}
