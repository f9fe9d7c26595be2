/**
 * The log writer's loop driven on the main thread: records published in the
 * ring land in the WAL as one batch per step, the durable cell moves to the
 * newest commitTs, and a closed ring stops the loop once drained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeFileLayer } from '../src/files/file_layer.js';
import { createLogControl, DURABLE_TS, WAITED_TS } from '../src/log/log_control.js';
import { LogWriterLoop } from '../src/log/log_writer_loop.js';
import { OP_INSERT, RecordBuilder, visitRecord } from '../src/log/record.js';
import { replayWal } from '../src/log/wal_reader.js';
import { createRingBuffer, RingProducer } from '../src/ring/ring.js';

test('records published in the ring become one durable batch per step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-writer-'));
  const ring = createRingBuffer(64 * 1024);
  const control = createLogControl(0);
  const producer = new RingProducer(ring);
  const loop = new LogWriterLoop(new NodeFileLayer(), {
    ring,
    control,
    dir,
    walSegmentBytes: 256 * 1024,
    fileMode: 0o600,
    databaseId: '42',
    seq: 0,
    offset: 0,
    zeroUntil: 0,
    lastCommitTs: 0,
    maxDelayMs: 0,
    maxSegments: 100,
    archiveDir: null,
    maxRetainedWalBytes: 0,
  });
  const builder = new RecordBuilder();
  const publish = (from: number, to: number): void => {
    for (let ts = from; ts <= to; ts++) {
      builder.begin(ts);
      builder.op(OP_INSERT, 0, ts, new Uint8Array([ts & 255]), 0, 1);
      builder.end();
      const at = producer.reserve(builder.length - 4);
      producer.bytes.set(builder.bytes.subarray(4, builder.length), at);
    }
    producer.publish();
  };
  const cells = new BigInt64Array(control);
  assert.is(loop.step(0), 'idle');
  publish(1, 50);
  assert.is(loop.step(0), 'wrote');
  assert.is(Atomics.load(cells, DURABLE_TS), 50n);
  publish(51, 60);
  assert.is(loop.step(0), 'wrote');
  const { bytes, reservedBytes, ...counts } = loop.stats();
  assert.equal(counts, {
    batches: 2,
    syncs: 2,
    segmentsCreated: 1,
    segmentsRecycled: 0,
    segmentsDeleted: 0,
    durableTs: 60,
    diskFullEvents: 0,
    disk: 'ok',
  });
  assert.ok(reservedBytes > 0 && reservedBytes < 256 * 1024, `${reservedBytes} bytes left in the segment`);
  assert.ok(bytes >= 60 * (4 + 16 + 16 + 1), `${bytes} bytes written for 60 records`);
  producer.close();
  assert.is(loop.step(0), 'closed');
  loop.close();
  const seen: number[] = [];
  const visitor = {
    commit: () => {},
    insert: () => {},
    delete: () => {},
    createTable: () => {},
    changeTable: () => {},
    end: (ts: number) => void seen.push(ts),
  };
  replayWal(
    new NodeFileLayer(),
    dir,
    (bytes, offset, length, where) => void visitRecord(bytes, offset, length, visitor, where),
  );
  assert.equal(
    seen,
    Array.from({ length: 60 }, (_, i) => i + 1),
  );
  rmSync(dir, { recursive: true });
});

test('records nobody waits on are synced within maxDelayMs; a waiter gets an immediate sync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-writer-'));
  const ring = createRingBuffer(64 * 1024);
  const control = createLogControl(0);
  const cells = new BigInt64Array(control);
  const producer = new RingProducer(ring);
  let clock = 0;
  const loop = new LogWriterLoop(
    new NodeFileLayer(),
    {
      ring,
      control,
      dir,
      walSegmentBytes: 256 * 1024,
      fileMode: 0o600,
      databaseId: '1',
      seq: 0,
      offset: 0,
      zeroUntil: 0,
      lastCommitTs: 0,
      maxDelayMs: 100,
      maxSegments: 100,
      archiveDir: null,
      maxRetainedWalBytes: 0,
    },
    () => clock,
  );
  const builder = new RecordBuilder();
  const publish = (ts: number): void => {
    builder.begin(ts);
    builder.end();
    producer.bytes.set(builder.bytes.subarray(4, builder.length), producer.reserve(builder.length - 4));
    producer.publish();
  };
  publish(1);
  assert.is(loop.step(0), 'wrote');
  assert.is(Atomics.load(cells, DURABLE_TS), 0n, 'written, not yet synced: nobody waits');
  clock = 50;
  publish(2);
  loop.step(0);
  assert.is(Atomics.load(cells, DURABLE_TS), 0n);
  clock = 101;
  loop.step(0);
  assert.is(Atomics.load(cells, DURABLE_TS), 2n, 'synced once maxDelayMs passed since the first unsynced write');
  publish(3);
  Atomics.store(cells, WAITED_TS, 3n);
  loop.step(0);
  assert.is(Atomics.load(cells, DURABLE_TS), 3n, 'a waiter gets its sync at once');
  producer.close();
  assert.is(loop.step(0), 'closed');
  loop.close();
  rmSync(dir, { recursive: true });
});

test.run();
