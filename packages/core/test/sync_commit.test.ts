/**
 * A synchronous durable commit: `db.transactionSync(fn, { durability:
 * 'durable' })` returns only once its commit is fdatasync'd, blocking the
 * thread on the log writer's durable mark (no promise, no event-loop turn),
 * also when records wait for ring space first. Without the option it returns
 * at once, durable later. Refusals (`replicated`, the inline threads of the
 * fault tests) come before fn runs, so nothing changes. The sink's own
 * checks, with the test as the log writer: a failed writer, a full disk and
 * a closed log end the wait with a typed error instead of blocking on.
 * (That acknowledged synchronous commits survive SIGKILL is crash.test.ts's:
 * every fourth child commits this way.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Database, ErrorCode, open } from '../src/index.js';
import { DurableSink } from '../src/log/durable_sink.js';
import { createLogControl, DISK_STATE, DiskState, WRITER_FAILED } from '../src/log/log_control.js';
import { createRingBuffer, RingProducer } from '../src/ring/ring.js';
import { tempDirs } from './helpers/dirs.js';
import { openSim } from './helpers/sim_db.js';
import { SimFileLayer } from '../src/files/sim_layer.js';
import { KV } from './helpers/tables.js';

const dirs = tempDirs('tidemark-sync-commit-');
test.after(() => dirs.cleanup());

function lag(db: Database): number {
  return db.stats().durability!.lagTs;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

test('transactionSync with durability durable returns once its commit is durable; without it, at once', async () => {
  const db = await open({ dir: dirs.make(), tables: [KV] });
  try {
    for (let k = 0; k < 200; k++) {
      const value = db.transactionSync((tx) => tx.insert('kv', { k, v: 'durable' }), { durability: 'durable' });
      assert.is(value, undefined);
      assert.is(lag(db), 0, `commit ${k} is durable when transactionSync returns`);
    }
    db.transactionSync((tx) => tx.insert('kv', { k: -1, v: 'later' }));
    assert.ok(lag(db) > 0, 'without the option the commit is not durable yet (its record is not even published)');
    await db.flush();
    assert.is(lag(db), 0);
    assert.is(db.table('kv').size, 201);
  } finally {
    await db.close();
  }
});

test('records waiting for ring space go in first: a burst past the ring, then a synchronous durable commit', async () => {
  const dir = dirs.make();
  const db = await open({ dir, tables: [KV], ringBytes: 64 * 1024 });
  try {
    const v = 'x'.repeat(200);
    for (let k = 0; k < 2000; k++) void db.table('kv').insert({ k, v }, { durability: 'delayed' });
    assert.ok(db.stats().durability!.ring.backlogBytes > 0, 'the burst overflowed the ring');
    db.transactionSync((tx) => tx.insert('kv', { k: 5000, v: 'last' }), { durability: 'durable' });
    assert.is(db.stats().durability!.ring.backlogBytes, 0);
    assert.is(lag(db), 0, 'the burst and the commit after it are all durable');
  } finally {
    await db.close();
  }
  const again = await open({ dir, tables: [KV] });
  assert.is(again.table('kv').size, 2001);
  await again.close();
});

test('refused before fn runs, nothing changed: replicated, and the inline threads of the fault tests', async () => {
  const db = await open({ dir: dirs.make(), tables: [KV] });
  let ran = 0;
  try {
    const code = codeOf(() =>
      db.transactionSync(() => ran++, { durability: 'replicated' as 'durable' | 'delayed' | 'replicated' }),
    );
    assert.is(code, ErrorCode.INVALID_OPTION);
    assert.is(ran, 0);
  } finally {
    await db.close();
  }
  const sim = await openSim(new SimFileLayer());
  try {
    const code = codeOf(() =>
      sim.transactionSync((tx) => tx.insert('items', { id: 1, v: 1, pad: 'no' }), { durability: 'durable' }),
    );
    assert.is(code, ErrorCode.INVALID_OPTION);
    assert.is(sim.table('items').get(1), undefined);
  } finally {
    await sim.close();
  }
  const memory = await open({ tables: [KV] });
  memory.transactionSync((tx) => tx.insert('kv', { k: 1, v: 'in memory' }), { durability: 'durable' });
  assert.is(memory.table('kv').size, 1);
  await memory.close();
});

test('the wait ends with a typed error when it cannot end well: writer failed, disk full, log closed', () => {
  const make = () => {
    const cells = new BigInt64Array(createLogControl(0));
    const sink = new DurableSink(new RingProducer(createRingBuffer(1 << 20)), cells, 1 << 20);
    sink.begin(1);
    sink.insert(1, 1, new Uint8Array(10), 0, 10);
    sink.end();
    return { sink, cells };
  };
  const failed = make();
  Atomics.store(failed.cells, WRITER_FAILED, 1n);
  assert.is(
    codeOf(() => failed.sink.waitDurableSync(1)),
    ErrorCode.IO_ERROR,
  );
  const full = make();
  Atomics.store(full.cells, DISK_STATE, DiskState.STALLED);
  assert.is(
    codeOf(() => full.sink.waitDurableSync(1)),
    ErrorCode.DISK_FULL,
  );
  const closed = make();
  void closed.sink.close();
  assert.is(
    codeOf(() => closed.sink.waitDurableSync(1)),
    ErrorCode.CLOSED,
  );
  const inline = new DurableSink(
    new RingProducer(createRingBuffer(1 << 20)),
    new BigInt64Array(createLogControl(0)),
    1 << 20,
    false,
  );
  assert.is(
    codeOf(() => inline.waitDurableSync(1)),
    ErrorCode.INVALID_OPTION,
  );
  assert.is(
    codeOf(() => inline.waitDurableSync(0)),
    undefined,
    'what is durable already needs no wait',
  );
});

test.run();
