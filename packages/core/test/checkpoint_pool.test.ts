/**
 * The pool of pre-created pairs is kept ahead of need even when the streamer
 * is never idle: once the pair being written is three quarters full, the
 * pool is due for a top-up, so the next pair is ready when this one closes
 * (no pool miss), and not before, so a pre-created file's disk is held no
 * longer than that. Drives a CheckpointWriter directly on this thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckpointWriter, streamStepBytes } from '../src/checkpoint/checkpoint_writer.js';
import { CfpState } from '../src/index.js';
import { NodeFileLayer } from '../src/files/file_layer.js';
import { tempDirs } from './helpers/dirs.js';

const dirs = tempDirs('tidemark-pool-');
test.after(() => dirs.cleanup());

const FILE_BYTES = 64 * 1024;

test('the pool is due for a top-up once the pair being written is three quarters full, and then no pair opens without a pre-created file', () => {
  const dir = dirs.make();
  const writer = new CheckpointWriter(
    new NodeFileLayer(),
    { dir, databaseId: 7n, dataFileSizeBytes: FILE_BYTES, precreatedFiles: 1 },
    null,
  );
  try {
    writer.createTable(0, { name: 't', columns: [{ name: 'id', type: 'int32' }], primaryKey: ['id'] });
    assert.is(writer.poolNeededSoon(), true, 'no pair is being written: the first commit will need one');
    const payload = new Uint8Array(200);
    let ts = 0;
    const insert = (): void => {
      writer.commit(++ts);
      writer.insert(0, ts, payload, 0, payload.length);
      writer.end(ts);
      writer.flush();
    };
    insert();
    assert.is(writer.poolMisses, 1, 'the first pair had no pool to come from (not topped up here)');
    const building = (): { usedBytes: number } => {
      const e = writer.entries().find((c) => c.state === CfpState.UNDER_CONSTRUCTION)!;
      return { usedBytes: e.dataLength };
    };
    let dueAt = -1;
    for (let i = 0; i < 1000 && dueAt < 0; i++) {
      if (writer.poolNeededSoon()) dueAt = building().usedBytes;
      else insert();
    }
    assert.ok(
      dueAt * 4 >= FILE_BYTES * 3 && dueAt * 4 < FILE_BYTES * 3 + 4 * 1024,
      `due at ${dueAt} bytes of ${FILE_BYTES}: three quarters full, not before`,
    );
    assert.is(writer.topUpPool(), 1, 'the top-up makes one pair');
    assert.is(writer.poolNeededSoon(), false, 'a full pool is not due');
    const closed = writer.entries().filter((c) => c.state === CfpState.ACTIVE).length;
    for (let i = 0; i < 1000 && writer.entries().filter((c) => c.state === CfpState.ACTIVE).length === closed; i++)
      insert();
    assert.is(writer.entries().filter((c) => c.state === CfpState.ACTIVE).length, closed + 1, 'the pair closed');
    assert.is(writer.poolMisses, 1, 'the next pair came from the pool');
  } finally {
    writer.close();
  }
});

test('a streamer step reads an eighth of a data file of log at most (within 1 to 16 MiB), so from 8 MiB files the top-up a quarter before the close comes a step ahead', () => {
  assert.is(streamStepBytes(64 * 1024), 1 << 20, 'tiny files: 1 MiB');
  assert.is(streamStepBytes(8 << 20), 1 << 20);
  assert.is(streamStepBytes(16 << 20), 2 << 20);
  assert.is(streamStepBytes(128 << 20), 16 << 20);
  assert.is(streamStepBytes(1 << 30), 16 << 20, 'never more than 16 MiB');
});

test.run();
