// The log ring on one thread: bounds, WRAP markers, a full ring, cursors that
// pass 2^32, the wake-up calls that cannot block, and a model of random
// reserve/publish/read/release sequences. ring_threads.test.ts runs both ends
// in two real threads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { AssertionError } from '../src/assert.js';
import { ErrorCode, isTidemarkError } from '../src/errors.js';
import {
  CONTROL_BYTES,
  RING_MAX_CAPACITY_BYTES,
  SLOT_CONSUMER_SLEEPING,
  SLOT_DATA_SEQ,
  SLOT_HEAD,
  SLOT_PRODUCER_WANTS_SPACE,
  SLOT_SPACE_SEQ,
  SLOT_TAIL,
  WRAP_MARKER,
  isValidCapacity,
  recordBytes,
} from '../src/ring/layout.js';
import { createRingBuffer, RingConsumer, RingProducer } from '../src/ring/ring.js';
import { checkRecord, fillRecord } from './fixtures/ring_records.js';

const KiB = 1024;
const CAPACITY = 64 * KiB;

/** A fresh ring whose cursors both start at `start` (to reach any offset, or 2^32). */
function ring(
  start = 0,
  capacity = CAPACITY,
): { producer: RingProducer; consumer: RingConsumer; sab: SharedArrayBuffer } {
  const sab = createRingBuffer(capacity);
  const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  control[SLOT_HEAD] = start | 0;
  control[SLOT_TAIL] = start | 0;
  return { producer: new RingProducer(sab), consumer: new RingConsumer(sab), sab };
}

function put(producer: RingProducer, length: number, seq: number): number {
  const offset = producer.reserve(length);
  if (offset >= 0) fillRecord(producer.bytes, offset, length, seq);
  return offset;
}

/** Reads everything published; checks each record's bytes against its sequence number. */
function drain(consumer: RingConsumer, firstSeq: number): number[] {
  const lengths: number[] = [];
  consumer.read((bytes, offset, length) => {
    assert.is(checkRecord(bytes, offset, length, firstSeq + lengths.length), -1, `record ${firstSeq + lengths.length}`);
    lengths.push(length);
  });
  return lengths;
}

test('capacity: a power of two from 64 KiB to 1 GiB, else INVALID_OPTION naming the option', () => {
  for (const bad of [0, -65536, 32 * KiB, 96 * KiB, 65536.5, NaN, Infinity, 2 * RING_MAX_CAPACITY_BYTES]) {
    try {
      createRingBuffer(bad, 'options.logRingBytes');
      assert.unreachable(`accepted ${bad}`);
    } catch (error) {
      assert.ok(isTidemarkError(error, ErrorCode.INVALID_OPTION), String(error));
      assert.match((error as Error).message, 'options.logRingBytes');
    }
  }
  assert.ok(isValidCapacity(RING_MAX_CAPACITY_BYTES));
  const sab = createRingBuffer(CAPACITY);
  assert.is(sab.byteLength, CONTROL_BYTES + CAPACITY);
  const { producer } = ring();
  assert.is(producer.capacity, CAPACITY);
  assert.is(producer.maxRecordBytes, CAPACITY / 2 - 8);
  assert.is(producer.free(), CAPACITY);
  assert.throws(
    () => new RingProducer(new SharedArrayBuffer(CONTROL_BYTES + 1000)),
    (e: unknown) => e instanceof AssertionError,
  );
});

test('record lengths: 0 to maxRecordBytes; larger is a bug', () => {
  const { producer, consumer } = ring();
  assert.throws(
    () => producer.reserve(producer.maxRecordBytes + 1),
    (e: unknown) => e instanceof AssertionError,
  );
  assert.throws(
    () => producer.reserve(-1),
    (e: unknown) => e instanceof AssertionError,
  );
  assert.throws(
    () => producer.reserve(1.5),
    (e: unknown) => e instanceof AssertionError,
  );
  assert.is(put(producer, 0, 0), 4);
  assert.is(put(producer, producer.maxRecordBytes, 1), 8);
  producer.publish();
  assert.equal(drain(consumer, 0), [0, producer.maxRecordBytes]);
});

test('a largest record fits an empty ring at every offset', () => {
  for (let start = 0; start < CAPACITY; start += 4 * 1021) {
    const { producer, consumer } = ring(start);
    const offset = put(producer, producer.maxRecordBytes, 7);
    assert.ok(offset >= 0, `start ${start}`);
    producer.publish();
    assert.equal(drain(consumer, 7), [producer.maxRecordBytes]);
    consumer.release();
    assert.is(producer.free(), CAPACITY);
  }
});

test('a record that does not fit before the end leaves a WRAP marker and starts at 0', () => {
  const { producer, consumer } = ring(CAPACITY - 64);
  assert.is(put(producer, 50, 0), CAPACITY - 60); // 4 + 52 bytes: 8 left before the end
  assert.is(put(producer, 5, 1), 4); // needs 12: WRAP at CAPACITY - 8, record at 0
  const words = new Uint32Array(producer.bytes.buffer, CONTROL_BYTES, CAPACITY / 4);
  assert.is(words[(CAPACITY - 8) / 4], WRAP_MARKER);
  assert.is(producer.free(), CAPACITY - 56 - 8 - 12);
  assert.equal(drain(consumer, 0), [], 'nothing is visible before publish');
  producer.publish();
  assert.equal(drain(consumer, 0), [50, 5]);
  consumer.release();
  assert.is(producer.free(), CAPACITY);
});

test('a record that ends exactly at the end needs no WRAP marker', () => {
  const { producer, consumer } = ring(CAPACITY - 64);
  assert.is(put(producer, 60, 0), CAPACITY - 60);
  assert.is(put(producer, 1, 1), 4);
  producer.publish();
  assert.equal(drain(consumer, 0), [60, 1]);
});

test('an exactly full ring: free() is 0, reserve returns -1 until the consumer releases', () => {
  const { producer, consumer } = ring();
  const length = 4096 - 4;
  for (let i = 0; i < CAPACITY / 4096; i++) assert.ok(put(producer, length, i) >= 0);
  assert.is(producer.free(), 0);
  assert.is(producer.reserve(0), -1);
  producer.publish();
  assert.is(producer.reserve(0), -1);
  assert.is(
    consumer.read(() => {}, 3),
    3,
  );
  assert.is(producer.reserve(0), -1, 'read is not released');
  consumer.release();
  assert.is(producer.free(), 3 * 4096);
  assert.is(put(producer, 3 * 4096 - 4, 16), 4);
  assert.is(producer.reserve(0), -1);
  producer.publish();
  assert.is(
    consumer.read(() => {}),
    CAPACITY / 4096 - 3 + 1,
  );
});

test('cursors wrap modulo 2^32', () => {
  const { producer, consumer, sab } = ring(2 ** 32 - 3 * 1000);
  let seq = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 10; i++) assert.ok(put(producer, 291, seq + i) >= 0);
    producer.publish();
    assert.equal(drain(consumer, seq), Array(10).fill(291));
    consumer.release();
    seq += 10;
  }
  const control = new Int32Array(sab, 0, 2);
  assert.is(control[SLOT_HEAD], control[SLOT_TAIL]);
  assert.ok(control[SLOT_HEAD]! >>> 0 < 2 ** 20, 'the cursors passed 2^32');
});

test('waitForData: timeout, data, then closed only once drained', () => {
  const { producer, sab } = ring();
  const windows: string[] = [];
  const consumer = new RingConsumer(sab, { onRaceWindow: (w) => windows.push(w) });
  const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  assert.is(consumer.waitForData(0), 'timeout');
  assert.not.ok(windows.includes('before-sleep'), 'a zero timeout never sleeps');
  windows.length = 0;
  assert.is(consumer.waitForData(100), 'timeout');
  // It slept on the data slot until its deadline (nothing could wake it) and took its flag down after.
  assert.ok(windows.includes('before-sleep'), 'a timeout is waited out, not returned at once');
  assert.is(control[SLOT_CONSUMER_SLEEPING], 0);
  put(producer, 10, 0);
  assert.is(consumer.waitForData(0), 'timeout', 'reserved is not published');
  producer.publish();
  assert.is(consumer.waitForData(1000), 'data');
  producer.close();
  assert.ok(consumer.closed);
  assert.is(consumer.waitForData(1000), 'data', 'unread records come before closed');
  assert.equal(drain(consumer, 0), [10]);
  assert.is(consumer.waitForData(1000), 'closed');
});

test('waitForSpace: at once when it fits, after a release when not, and on close', async () => {
  const { producer, consumer } = ring();
  await producer.waitForSpace(producer.maxRecordBytes);
  while (put(producer, 1000, 0) >= 0);
  assert.not.ok(producer.fits(1000));
  producer.publish();
  let resolved = false;
  const waiting = producer.waitForSpace(1000).then(() => (resolved = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.not.ok(resolved, 'resolved before any release');
  consumer.read(() => {}, 1);
  consumer.release();
  await waiting;
  assert.ok(producer.reserve(1000) >= 0);
  const never = producer.waitForSpace(producer.maxRecordBytes);
  producer.close();
  await never;
});

test('signals only a sleeping peer, once per publish or release', () => {
  const { producer, consumer, sab } = ring();
  const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  put(producer, 1, 0);
  put(producer, 2, 1);
  producer.publish();
  assert.is(control[SLOT_DATA_SEQ], 0, 'the consumer was awake: no signal');
  control[SLOT_CONSUMER_SLEEPING] = 1; // as waitForData leaves it while blocked
  put(producer, 3, 2);
  put(producer, 4, 3);
  producer.publish();
  producer.publish();
  assert.is(control[SLOT_DATA_SEQ], 1, 'one signal for two records and two publishes');
  assert.is(control[SLOT_CONSUMER_SLEEPING], 0, 'the producer takes the flag down with its signal');
  consumer.read(() => {});
  consumer.release();
  assert.is(control[SLOT_SPACE_SEQ], 0, 'the producer did not ask for space: no signal');
  control[SLOT_PRODUCER_WANTS_SPACE] = 1; // as waitForSpace leaves it while waiting
  put(producer, 5, 4);
  producer.publish();
  consumer.read(() => {});
  consumer.release();
  consumer.release();
  assert.is(control[SLOT_SPACE_SEQ], 1);
  assert.is(control[SLOT_PRODUCER_WANTS_SPACE], 0);
});

type Op = { kind: 'put'; length: number } | { kind: 'publish' } | { kind: 'read'; max: number } | { kind: 'release' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }).map((length) => ({ kind: 'put' as const, length })) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: (64 * KiB) / 2 - 8 }).map((length) => ({ kind: 'put' as const, length })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'publish' as const }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 20 }).map((max) => ({ kind: 'read' as const, max })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'release' as const }) },
);

test('model: random reserve/publish/read/release sequences keep every record, in order', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 4 }), fc.array(opArb, { maxLength: 400 }), (startRaw, ops) => {
      const start = (startRaw & ~3) >>> 0;
      const { producer, consumer } = ring(start);
      // The model keeps unbounded cursors and computes what each record takes, WRAP waste included.
      const lengths: number[] = [];
      let reserved = start,
        published = 0,
        read = 0,
        readBytes = start,
        released = start,
        publishedBytes = start;
      const ends: number[] = [];
      for (const op of ops) {
        if (op.kind === 'put') {
          const toEnd = CAPACITY - (reserved % CAPACITY);
          const total = recordBytes(op.length);
          const need = total > toEnd ? toEnd + total : total;
          const room = CAPACITY - (reserved - released);
          assert.is(put(producer, op.length, lengths.length) >= 0, need <= room, `put ${op.length}`);
          if (need <= room) {
            lengths.push(op.length);
            reserved += need;
            ends.push(reserved);
          }
        } else if (op.kind === 'publish') {
          producer.publish();
          published = lengths.length;
          publishedBytes = reserved;
        } else if (op.kind === 'read') {
          const got: number[] = [];
          consumer.read((bytes, offset, length) => {
            assert.is(checkRecord(bytes, offset, length, read + got.length), -1);
            got.push(length);
          }, op.max);
          const expected = lengths.slice(read, Math.min(published, read + op.max));
          assert.equal(got, expected);
          read += got.length;
          readBytes = read === 0 ? start : ends[read - 1]!;
        } else {
          consumer.release();
          released = readBytes;
        }
        assert.is(producer.free(), CAPACITY - (reserved - released));
        assert.ok(publishedBytes - released <= CAPACITY);
      }
    }),
    { numRuns: 300 },
  );
});

test.run();
