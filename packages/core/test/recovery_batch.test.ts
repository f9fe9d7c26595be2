/**
 * The two halves of a recovery batch, driven on the main thread: the builder
 * (a task's side) turns data-file entries into batches, the linker (the main
 * thread's side) links them into tables. Every row lands in its table with
 * its versionId, no `older` link, a findable key and its bytes intact,
 * across arena segment boundaries and table switches; a second live version
 * of a key is CORRUPT.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DATA_ENTRY_HEADER_BYTES, dataEntryBytes } from '../src/checkpoint/cfp_format.js';
import { ErrorCode, isTidemarkError } from '../src/errors.js';
import { BatchBuilder } from '../src/recovery/batch.js';
import { BatchLinker } from '../src/recovery/linker.js';
import { hashBytes } from '../src/schema/codec.js';
import { defineTable } from '../src/schema/schema.js';
import { offsetOf, segmentOf } from '../src/table/arena.js';
import { TableStore } from '../src/table/table_store.js';

function tables(): TableStore[] {
  const a = defineTable({
    name: 'a',
    columns: [
      { name: 'id', type: 'int32' },
      { name: 'blob', type: 'bytes' },
    ],
    primaryKey: ['id'],
  });
  const b = defineTable({
    name: 'b',
    columns: [
      { name: 'k', type: 'string' },
      { name: 'n', type: 'float64' },
    ],
    primaryKey: ['k'],
  });
  return [new TableStore(0, a), new TableStore(1, b)];
}

interface Entry {
  tableId: number;
  row: Record<string, unknown>;
  versionId: number;
}

/** The entries as a data block's payload would hold them: tableId, 0, length, versionId, payload, padding. */
function dataEntries(stores: TableStore[], entries: Entry[]): { bytes: Uint8Array; at: number[]; sizes: number[] } {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const codec = stores[e.tableId]!.codec;
    const length = codec.measure(e.row);
    const bytes = new Uint8Array(dataEntryBytes(length));
    const view = new DataView(bytes.buffer);
    view.setUint16(0, e.tableId, true);
    view.setUint32(4, length, true);
    view.setFloat64(8, e.versionId, true);
    codec.encodeMeasured(bytes, view, DATA_ENTRY_HEADER_BYTES);
    parts.push(bytes);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  const at: number[] = [];
  const sizes: number[] = [];
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    at.push(offset);
    sizes.push(p.length);
    offset += p.length;
  }
  return { bytes, at, sizes };
}

/** Builds batches of `entries` (live where `live[i]`), links them, returns the stores. */
function load(entries: Entry[], live: boolean[] = entries.map(() => true)): TableStore[] {
  const stores = tables();
  for (const s of stores) s.primary.beginBulk();
  const linker = new BatchLinker(stores, () => 'test');
  const builder = new BatchBuilder({ put: (bytes, length) => void linker.link(bytes, 0, length) });
  const { bytes, at, sizes } = dataEntries(stores, entries);
  const view = new DataView(bytes.buffer);
  entries.forEach((e, i) => {
    if (!live[i]) return;
    const payload = at[i]! + DATA_ENTRY_HEADER_BYTES;
    const keyLength = stores[e.tableId]!.codec.keyLength(bytes, view, payload);
    builder.add(e.tableId, hashBytes(bytes, payload, keyLength), bytes, at[i]!, sizes[i]!, at[i]! + sizes[i]!);
  });
  builder.endOfSource();
  builder.flush();
  for (const s of stores) s.primary.endBulk();
  return stores;
}

function check(stores: TableStore[], entries: Entry[], live: boolean[]): void {
  entries.forEach((e, i) => {
    const store = stores[e.tableId]!;
    const length = store.encodeKey(e.tableId === 0 ? e.row.id : e.row.k);
    const ptr = store.headOfEncodedKey(length);
    if (!live[i]) {
      assert.is(ptr, 0, `entry ${i} was filtered out`);
      return;
    }
    assert.ok(ptr !== 0, `entry ${i} is findable`);
    assert.is(store.arena.older(ptr), 0, 'no older version');
    assert.is(store.arena.versionId(ptr), e.versionId);
    assert.equal(store.read(ptr), e.row);
    assert.ok(offsetOf(ptr) + store.arena.sizeOf(ptr) <= 16 * 1024 * 1024, 'a version never crosses its segment');
  });
  for (const [id, store] of stores.entries())
    assert.is(store.liveRows, entries.filter((e, i) => live[i] && e.tableId === id).length);
}

test('rows of two tables, interleaved, some filtered out: each linked once, intact', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ table: fc.nat(1), size: fc.nat(300), live: fc.boolean() }), { maxLength: 400 }),
      (specs) => {
        const entries: Entry[] = specs.map((s, i) =>
          s.table === 0
            ? { tableId: 0, row: { id: i, blob: new Uint8Array(s.size).fill(i & 255) }, versionId: i + 1 }
            : { tableId: 1, row: { k: `key-${i}`, n: i / 7 }, versionId: i + 1 },
        );
        const live = specs.map((s) => s.live);
        check(load(entries, live), entries, live);
      },
    ),
    { numRuns: 60 },
  );
});

test('runs are split at arena segment boundaries (rows of 300 KB over several segments)', () => {
  const entries: Entry[] = Array.from({ length: 150 }, (_, i) => ({
    tableId: 0,
    row: { id: i, blob: new Uint8Array(300_000).fill(i) },
    versionId: 10 + i,
  }));
  const live = entries.map(() => true);
  const stores = load(entries, live);
  check(stores, entries, live);
  assert.ok(stores[0]!.arena.segmentCount >= 3, `${stores[0]!.arena.segmentCount} segments`);
  const segments = new Set(entries.map((e) => segmentOf(stores[0]!.headOfEncodedKey(stores[0]!.encodeKey(e.row.id)))));
  assert.ok(segments.size >= 3);
});

test('a second live version of a key is CORRUPT', () => {
  const entries: Entry[] = [
    { tableId: 1, row: { k: 'same', n: 1 }, versionId: 1 },
    { tableId: 0, row: { id: 1, blob: new Uint8Array(3) }, versionId: 2 },
    { tableId: 1, row: { k: 'same', n: 2 }, versionId: 3 },
  ];
  try {
    load(entries);
    assert.unreachable('a duplicate key was linked');
  } catch (error) {
    assert.ok(isTidemarkError(error, ErrorCode.CORRUPT), String(error));
    assert.match((error as Error).message, 'second live version');
  }
});

test.run();
