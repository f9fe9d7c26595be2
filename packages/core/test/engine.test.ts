/**
 * The engine's boundary: the clock, the logged commitTs and the epoch move
 * only through its methods, and a schema change commits through the same
 * path as a transaction (stamped, logged, published).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AssertionError } from '../src/assert.js';
import { ErrorCode, type TidemarkError } from '../src/errors.js';
import { MAX_VERSION_ID } from '../src/constants.js';
import { commitSchemaChange } from '../src/txn/commit.js';
import { Engine } from '../src/txn/engine.js';
import { DiscardSink, type LogSink } from '../src/txn/sink.js';

/** A sink that keeps nothing and records the calls it gets, in order. */
class RecordingSink implements LogSink {
  readonly durableTs = Infinity;
  readonly maxRecordBytes = Infinity;
  readonly backlogBytes = 0;
  readonly calls: string[] = [];
  begin(commitTs: number): void {
    this.calls.push(`begin ${commitTs}`);
  }
  insert(): void {}
  delete(): void {}
  createTable(tableId: number): void {
    this.calls.push(`createTable ${tableId}`);
  }
  changeTable(tableId: number): void {
    this.calls.push(`changeTable ${tableId}`);
  }
  end(): void {
    this.calls.push('end');
  }
  whenDurable(commitTs: number): Promise<number> {
    return Promise.resolve(commitTs);
  }
  readonly blocking = true;
  waitDurableSync(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function engineWith(sink: LogSink = new DiscardSink()): Engine {
  return new Engine(sink, 'snapshot', 'durable', Infinity);
}

test('a commit is stamped after the clock, moves the epoch, and is seen once published', () => {
  const engine = engineWith();
  const epoch = engine.epoch;
  const commitTs = engine.stampCommit(3);
  assert.is(commitTs, 3);
  assert.is(engine.epoch, epoch + 1);
  assert.is(engine.clock.now, 0, 'not visible before it is published');
  engine.publishCommit(commitTs, false);
  assert.is(engine.clock.now, 3);
  assert.is(engine.loggedTs, 0, 'an unlogged commit (schemaOnly tables) is not waited for');
  engine.publishCommit(engine.stampCommit(1), true);
  assert.is(engine.clock.now, 4);
  assert.is(engine.loggedTs, 4);
});

test('publishing a commit that does not move the clock forward is a bug', () => {
  const engine = engineWith();
  engine.publishCommit(engine.stampCommit(2), true);
  assert.throws(
    () => engine.publishCommit(2, true),
    (error: unknown) => error instanceof AssertionError,
  );
});

test('the clock moves up to loaded commits and never back; recovery marks them logged', () => {
  const engine = engineWith();
  engine.advanceClock(10);
  engine.advanceClock(7);
  assert.is(engine.clock.now, 10);
  assert.is(engine.loggedTs, 0);
  engine.recovered();
  assert.is(engine.loggedTs, 10);
});

test('indexChanged moves the epoch', () => {
  const engine = engineWith();
  const epoch = engine.epoch;
  engine.indexChanged();
  assert.is(engine.epoch, epoch + 1);
});

test('a schema change is one logged commit of one version', () => {
  const sink = new RecordingSink();
  const engine = engineWith(sink);
  engine.publishCommit(engine.stampCommit(4), true);
  const epoch = engine.epoch;
  const commitTs = commitSchemaChange(engine, (s) => s.createTable(0, new Uint8Array(0)));
  assert.is(commitTs, 5);
  assert.equal(sink.calls, ['begin 5', 'createTable 0', 'end']);
  assert.is(engine.clock.now, 5);
  assert.is(engine.loggedTs, 5);
  assert.is(engine.epoch, epoch + 1);
  assert.is(engine.counters.commits, 0, 'the counters count transactions');
});

test('a schema change with no room on the clock changes nothing', () => {
  const sink = new RecordingSink();
  const engine = engineWith(sink);
  engine.advanceClock(MAX_VERSION_ID);
  const epoch = engine.epoch;
  try {
    commitSchemaChange(engine, (s) => s.createTable(0, new Uint8Array(0)));
    assert.unreachable('should throw');
  } catch (error) {
    assert.is((error as TidemarkError).code, ErrorCode.LIMIT_EXCEEDED);
  }
  assert.equal(sink.calls, []);
  assert.is(engine.clock.now, MAX_VERSION_ID);
  assert.is(engine.epoch, epoch);
});

test.run();
