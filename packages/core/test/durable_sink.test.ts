/**
 * The durable sink on one thread, with the test as the log writer: when the
 * records of a turn become visible in the ring, and how durability waits
 * resolve when DURABLE_TS moves.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DurableSink } from '../src/log/durable_sink.js';
import { createLogControl, publishDurable, WAITED_TS } from '../src/log/log_control.js';
import { createRingBuffer, RingConsumer, RingProducer } from '../src/ring/ring.js';

const ROW = new Uint8Array(100).fill(7);

function sink(): { sink: DurableSink; consumer: RingConsumer; cells: BigInt64Array } {
  const ring = createRingBuffer(1 << 20);
  const cells = new BigInt64Array(createLogControl(0));
  return { sink: new DurableSink(new RingProducer(ring), cells, 1 << 20), consumer: new RingConsumer(ring), cells };
}

/** One single-row commit at `commitTs`, as the engine logs it. */
function commit(s: DurableSink, commitTs: number): void {
  s.begin(commitTs);
  s.insert(1, commitTs, ROW, 0, ROW.length);
  s.end();
}

function readable(consumer: RingConsumer): number {
  if (consumer.waitForData(0) !== 'data') return 0;
  const n = consumer.read(() => {}, 1 << 20);
  consumer.release();
  return n;
}

test('with nobody waiting for durability, a turn is published once, when it ends', async () => {
  const { sink: s, consumer } = sink();
  for (let ts = 1; ts <= 40; ts++) commit(s, ts);
  assert.is(readable(consumer), 0, 'nothing visible inside the turn');
  await Promise.resolve();
  assert.is(readable(consumer), 40);
});

test('while commits wait for durability, records are published every KiB inside the turn', async () => {
  const { sink: s, consumer, cells } = sink();
  const waits: Array<Promise<number>> = [];
  for (let ts = 1; ts <= 40; ts++) {
    commit(s, ts);
    waits.push(s.whenDurable(ts));
  }
  const early = readable(consumer);
  assert.ok(early >= 30, `most of the turn's records are visible before it ends (saw ${early} of 40)`);
  // Published with the wait that made it: the writer syncs every published record at once.
  assert.is(Number(Atomics.load(cells, WAITED_TS)), early);
  await Promise.resolve();
  assert.is(early + readable(consumer), 40, 'the rest at the end of the turn');
  assert.is(Number(Atomics.load(cells, WAITED_TS)), 40);

  publishDurable(cells, 25);
  // The wait for commit 25 resolves in the pass that resolves 1 to 25 (a timer instead could fire
  // before the notify's task on a loaded machine).
  assert.is(await waits[24], 25);
  assert.is(s.waiting, 15, 'commits up to 25 resolved, the rest wait');
  publishDurable(cells, 40);
  assert.equal(
    await Promise.all(waits),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  assert.is(s.waiting, 0);
});

test.run();
