/**
 * The storage structures at scale: the primary index across several
 * incremental resizes (with lookups, replacements and removals while it
 * migrates; find and its hash-filtered findAbsent agree on every key), secondary indexes through growth, and arenas across several
 * segments.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ARENA_SEGMENT_BYTES, INDEX_INITIAL_SLOTS } from '../src/constants.js';
import { HashIndex } from '../src/index/hash_index.js';
import { PrimaryIndex } from '../src/index/primary_index.js';
import { Arena, offsetOf, segmentOf } from '../src/table/arena.js';
import { open } from '../src/index.js';
import { hashBytes } from '../src/schema/codec.js';

/** Rows of one int32 key: the payload is the key itself. */
function keyBytes(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}

/** The key hash the index is given: the real one, or a weak one that crowds home slots. */
type KeyHash = (bytes: Uint8Array, offset: number) => number;
const realHash: KeyHash = (bytes, offset) => hashBytes(bytes, offset, 4);

function setup(hash: KeyHash = realHash): {
  arena: Arena;
  index: PrimaryIndex;
  add: (n: number) => number;
  find: (n: number) => number;
  hashOf: (n: number) => number;
} {
  const arena = new Arena('t');
  const index = new PrimaryIndex(arena);
  const add = (n: number): number => {
    const ptr = arena.append(4, n, 0, 0);
    arena.u8s[segmentOf(ptr)]!.set(keyBytes(n), offsetOf(ptr) + 16);
    return ptr;
  };
  const hashOf = (n: number): number => hash(keyBytes(n), 0);
  // find and findAbsent (hashes) must agree on every key, present or not.
  const find = (n: number): number => {
    const found = index.find(hashOf(n), keyBytes(n), 0, 4);
    assert.is(index.findAbsent(hashOf(n), keyBytes(n), 0, 4), found, `findAbsent(${n})`);
    return found;
  };
  return { arena, index, add, find, hashOf };
}

test('primary index: grows through several resizes; every key stays findable at every step', () => {
  const { index, add, find } = setup();
  const total = INDEX_INITIAL_SLOTS * 40; // five doublings past the initial size
  const ptrs: number[] = [];
  for (let n = 0; n < total; n++) {
    const ptr = add(n);
    index.insert(hashBytes(keyBytes(n), 0, 4), ptr);
    ptrs.push(ptr);
    // While migrating, probe a key from each end: old-table and new-table entries.
    if (n % 97 === 0) {
      assert.is(find(n), ptr);
      assert.is(find(n >> 1), ptrs[n >> 1]);
    }
  }
  assert.is(index.size, total);
  for (let n = 0; n < total; n++) assert.is(find(n), ptrs[n]);
  assert.is(find(total + 1), 0);
  assert.ok(index.bytes >= total * 8 && index.bytes <= total * 8 * 3, `index bytes ${index.bytes}`);
});

/** Inserts, removals and replacements interleaved across several growths, checked against a Map. */
function churn(hash: KeyHash): void {
  const { index, add, find, hashOf } = setup(hash);
  const live = new Map<number, number>();
  let next = 0;
  for (let round = 0; round < 20000; round++) {
    const n = next++;
    const ptr = add(n);
    index.insert(hashOf(n), ptr);
    live.set(n, ptr);
    if (round % 3 === 0) {
      const victim = (round * 7919) % next;
      if (live.has(victim)) {
        index.remove(hashOf(victim), live.get(victim)!);
        live.delete(victim);
      }
    }
    if (round % 101 === 0) assert.is(find(round + 7), live.get(round + 7) ?? 0, 'mid-churn');
    if (round % 5 === 0) {
      const target = (round * 104729) % next;
      if (live.has(target)) {
        const newer = add(target);
        index.replace(hashOf(target), live.get(target)!, newer);
        live.set(target, newer);
      }
    }
  }
  assert.is(index.size, live.size);
  for (let n = 0; n < next; n++) assert.is(find(n), live.get(n) ?? 0, `key ${n}`);
  const seen = new Set<number>();
  index.forEach((ptr) => seen.add(ptr));
  assert.equal(seen, new Set(live.values()));
}

test('primary index: removals and replacements during migration keep the rest intact', () => {
  churn(realHash);
});

test('primary index: the same with a weak hash (16 home slots: long probe chains that wrap and shift back)', () => {
  churn((bytes, offset) => hashBytes(bytes, offset, 4) & 0xff00000f);
});

test('primary index: the same with hashes that share their top 8 bits, and with 1,024 hash values only (equal hashes, told apart by key)', () => {
  churn((bytes, offset) => hashBytes(bytes, offset, 4) & 0x00ffffff);
  churn((bytes, offset) => hashBytes(bytes, offset, 4) & 0x030000ff);
});

test('secondary hash index: duplicates, growth and removals', () => {
  const ix = new HashIndex();
  const n = 12_800; // past several doublings of INDEX_INITIAL_SLOTS
  for (let i = 0; i < n; i++) ix.add(i % 100, i + 2);
  const under = (h: number): number[] => {
    const out: number[] = [];
    ix.forHash(h, (p) => void out.push(p));
    return out.sort((a, b) => a - b);
  };
  assert.is(under(7).length, n / 100);
  for (let i = 0; i < n; i += 2) ix.remove(i % 100, i + 2);
  assert.is(ix.size, n / 2);
  assert.equal(under(8), []);
  assert.equal(
    under(7),
    Array.from({ length: n / 100 }, (_, k) => 7 + 100 * k + 2),
  );
});

test('arena: versions fill several segments; pointers and headers round-trip', () => {
  const arena = new Arena('big');
  const payload = 200_000;
  const ptrs: number[] = [];
  for (let i = 0; i < 300; i++) ptrs.push(arena.append(payload, i + 1, i === 0 ? 0 : ptrs[i - 1]!, 0));
  assert.ok(arena.segmentCount >= 4, `${arena.segmentCount} segments`);
  const segments = new Set(ptrs.map(segmentOf));
  assert.is(segments.size, arena.segmentCount);
  ptrs.forEach((ptr, i) => {
    assert.is(arena.versionId(ptr), i + 1);
    assert.is(arena.payloadLength(ptr), payload);
    assert.is(arena.older(ptr), i === 0 ? 0 : ptrs[i - 1]);
    assert.ok(offsetOf(ptr) + 16 + payload <= ARENA_SEGMENT_BYTES, 'a version never crosses a segment');
  });
});

test('arena: the last segment freed is kept, counted as reserved, for the next one opened; a second is given back', () => {
  const arena = new Arena('spare');
  const payload = 500_000; // 8 versions per 4 MiB segment
  const ptrs: number[] = [];
  while (arena.segmentCount < 4) ptrs.push(arena.append(payload, ptrs.length + 1, 0, 0));
  // Segments 1 and 2 are neither appended to nor segment 0: retire their versions and free them.
  for (const ptr of ptrs) if (segmentOf(ptr) === 1 || segmentOf(ptr) === 2) arena.retire(ptr);
  const reserved = arena.reservedBytes;
  const firstFreed = arena.u8s[1]!.buffer;
  arena.freeSegment(1);
  assert.is(arena.reservedBytes, reserved, 'the spare is still memory held');
  arena.freeSegment(2);
  assert.is(arena.reservedBytes, reserved - ARENA_SEGMENT_BYTES, 'only one spare is kept');
  // Fill the current segment: the next one opened reuses a freed number and the spare's memory.
  const before = arena.segmentCount;
  let ptr = 0;
  do ptr = arena.append(payload, 99, 0, 0);
  while (segmentOf(ptr) === 3);
  assert.is(arena.segmentCount, before, 'a freed segment number is reused');
  assert.is(arena.u8s[segmentOf(ptr)]!.buffer, firstFreed, 'the spare memory is reused');
  assert.is(arena.versionId(ptr), 99);
  assert.is(arena.reservedBytes, reserved - ARENA_SEGMENT_BYTES, 'the spare now holds versions; nothing more reserved');
  // With no spare left, the next segment is fresh memory.
  do ptr = arena.append(payload, 100, 0, 0);
  while (arena.u8s[segmentOf(ptr)]!.buffer === firstFreed);
  assert.is.not(arena.u8s[segmentOf(ptr)]!.buffer, arena.u8s[3]!.buffer);
  assert.is(arena.reservedBytes, reserved, 'one segment more than after the second free');
});

test('a table spanning several arena segments reads back every row', async () => {
  const db = await open({
    tables: [
      {
        name: 'blobs',
        columns: [
          { name: 'id', type: 'int32' },
          { name: 'data', type: 'bytes' },
        ],
        primaryKey: ['id'],
      },
    ],
  });
  const t = db.table('blobs');
  const rows = 200;
  for (let i = 0; i < rows; i += 20) {
    db.transactionSync((tx) => {
      for (let j = i; j < i + 20; j++) tx.insert('blobs', { id: j, data: new Uint8Array(300_000).fill(j & 255) });
    });
  }
  const stats = db.stats().tables[0]!;
  assert.ok(stats.reservedBytes >= 3 * ARENA_SEGMENT_BYTES, `reserved ${stats.reservedBytes}`);
  for (let i = 0; i < rows; i++) {
    const data = t.get(i)!.data as Uint8Array;
    assert.is(data.length, 300_000);
    assert.ok(data[0] === (i & 255) && data[299_999] === (i & 255), `row ${i}`);
  }
  // Updates with no snapshot open retire the old versions at once.
  await t.update(0, { data: new Uint8Array(10) });
  assert.ok(db.stats().tables[0]!.deadBytes >= 300_000);
  await db.close();
});

test.run();
