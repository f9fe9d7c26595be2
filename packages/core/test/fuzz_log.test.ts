import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordBuilder, visitRecord } from '../src/log/record.js';
import { encodeSegmentHeader, sealBatch, segmentName } from '../src/log/wal_format.js';
import { replayWal } from '../src/log/wal_reader.js';
import { MemoryLayer } from './helpers/mutations.js';
import { applyEdits, DB_ID, DIR, edits, noop, RUNS, typed } from './helpers/fuzz.js';

function record(commitTs: number, tableId: number, payload: Uint8Array): Uint8Array {
  const b = new RecordBuilder();
  b.begin(commitTs);
  b.op(1, tableId, commitTs, payload, 0, payload.length);
  b.end();
  return b.bytes.slice(0, b.length);
}

test('log records: arbitrary bytes and edited records give typed errors only', () => {
  const valid = record(5, 0, new Uint8Array([1, 0, 0, 0, 1, 0x61]));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) =>
      typed(() => visitRecord(bytes, 0, bytes.length, noop, () => 'r')),
    ),
    { numRuns: 3000 * RUNS },
  );
  fc.assert(
    fc.property(edits, (list) => {
      const bytes = applyEdits(valid, list, 4);
      typed(() => visitRecord(bytes, 4, bytes.length - 4, noop, () => 'r'));
    }),
    { numRuns: 3000 * RUNS },
  );
  // Read in place through a view (as the streamer and replay do), on a buffer that does not start at byte 0 of its ArrayBuffer,
  // with lengths that may run past it: still only typed errors, never a RangeError.
  fc.assert(
    fc.property(edits, fc.integer({ min: -8, max: 8 }), (list, slack) => {
      const edited = applyEdits(valid, list, 4);
      const backing = new Uint8Array(edited.length + 16);
      backing.set(edited, 8);
      const bytes = backing.subarray(8, 8 + edited.length);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      typed(() => visitRecord(bytes, 4, bytes.length - 4 + slack, noop, () => 'r', view));
    }),
    { numRuns: 3000 * RUNS },
  );
});

test('log records: on a buffer that does not start at byte 0 of its ArrayBuffer, with its view or none, a record gives the same, right visits', () => {
  const payload = new Uint8Array([1, 0, 0, 0, 2, 0x61, 0x62]);
  const rec = record(123_456_789_012, 3, payload);
  const backing = new Uint8Array(rec.length + 8);
  backing.set(rec, 5);
  const bytes = backing.subarray(5, 5 + rec.length);
  const seen = (view?: DataView): unknown[] => {
    const calls: unknown[] = [];
    const visitor = {
      commit: (ts: number) => calls.push(['commit', ts]),
      insert: (tableId: number, versionId: number, b: Uint8Array, offset: number, length: number) =>
        calls.push(['insert', tableId, versionId, [...b.subarray(offset, offset + length)]]),
      delete: (tableId: number, versionId: number) => calls.push(['delete', tableId, versionId]),
      createTable: (tableId: number) => calls.push(['create', tableId]),
      changeTable: (tableId: number) => calls.push(['change', tableId]),
      end: (ts: number) => calls.push(['end', ts]),
    };
    visitRecord(bytes, 4, bytes.length - 4, visitor, () => 'r', view);
    return calls;
  };
  const inPlace = seen(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  assert.equal(inPlace, seen());
  assert.equal(inPlace, [
    ['commit', 123_456_789_012],
    ['insert', 3, 123_456_789_012, [...payload]],
    ['end', 123_456_789_012],
  ]);
});

test('WAL segments: edited segments, batch checksums made right, give typed errors only', () => {
  const size = 65536;
  const segment = new Uint8Array(size);
  segment.set(encodeSegmentHeader({ seq: 0, databaseId: DB_ID, segmentBytes: size }));
  let at = 64;
  for (let ts = 1; ts <= 4; ts++) {
    const r = record(ts, 0, new Uint8Array([ts, 0, 0, 0, 1, 0x61]));
    segment.set(r, at + 32);
    at += sealBatch(segment, at, r.length, 1, ts, ts);
  }
  const end = at + 64;
  fc.assert(
    fc.property(edits, fc.boolean(), (list, reseal) => {
      const head = applyEdits(segment.subarray(0, end), list, reseal ? 64 : 0);
      const bytes = new Uint8Array(Math.max(size, head.length));
      bytes.set(head);
      if (reseal) {
        const v = new DataView(bytes.buffer);
        for (let b = 64; b + 32 <= end; b += 8) {
          if (v.getUint32(b, true) !== 0x31424d54) continue;
          const payload = v.getUint32(b + 4, true);
          if (payload <= bytes.length - b - 32)
            sealBatch(
              bytes,
              b,
              payload,
              v.getUint32(b + 12, true),
              v.getFloat64(b + 16, true),
              v.getFloat64(b + 24, true),
            );
        }
      }
      // With no view given (visitRecord makes one per record) and with the segment's own view, as replay and the streamer pass it.
      typed(() =>
        replayWal(new MemoryLayer(DIR, new Map([[segmentName(0), bytes]])), DIR, (r, o, l, where) =>
          visitRecord(r, o, l, noop, where),
        ),
      );
      typed(() =>
        replayWal(new MemoryLayer(DIR, new Map([[segmentName(0), bytes]])), DIR, (r, o, l, where, view) =>
          visitRecord(r, o, l, noop, where, view),
        ),
      );
    }),
    { numRuns: 500 * RUNS },
  );
});

test.run();
