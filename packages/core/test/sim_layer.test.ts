/**
 * The simulated file system the fault tests run on: durable vs unsynced
 * state per file and per directory entry, crash images, faults on the N-th
 * operation, running out of space; and the WAL writer over it: a full disk
 * is DISK_FULL, and the same calls succeed once space returns, with nothing
 * lost or written twice.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, isTidemarkError } from '../src/errors.js';
import { readFile, writeAll } from '../src/files/file_layer.js';
import { SimCrash, SimFileLayer } from '../src/files/sim_layer.js';
import { OP_INSERT, RecordBuilder, visitRecord } from '../src/log/record.js';
import { replayWal } from '../src/log/wal_reader.js';
import { WalWriter } from '../src/log/wal_writer.js';
import { makeRandom } from './helpers/dirs.js';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

function threw(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

test('a crash keeps synced bytes and synced directory entries, and drops the rest when clean', () => {
  const fs = new SimFileLayer();
  fs.mkdir('/d');
  const fd = fs.open('/d/a', true);
  writeAll(fs, fd, '/d/a', bytes(1, 2, 3), 0, 3, 0);
  fs.fdatasync(fd);
  writeAll(fs, fd, '/d/a', bytes(9, 9), 0, 2, 3);
  const lost = fs.open('/d/b', true); // never in a synced directory
  fs.close(lost);
  let image = fs.image('clean', makeRandom(1));
  assert.equal([...image.list('/d')], [], 'no entry was made durable');
  fs.fsyncDir('/d');
  image = fs.image('clean', makeRandom(1));
  assert.equal(image.list('/d').sort(), ['a', 'b']);
  assert.equal([...readFile(image, '/d/a')], [1, 2, 3], 'unsynced appends are dropped');
  fs.rename('/d/a', '/d/c');
  assert.equal(fs.image('clean', makeRandom(1)).list('/d').sort(), ['a', 'b'], 'an unsynced rename is dropped');
});

test('damaged crash images keep a prefix of unsynced writes, and extended space reads as zeros or garbage', () => {
  const seen = { prefixes: new Set<number>(), zeros: 0, garbage: 0 };
  for (let seed = 1; seed <= 60; seed++) {
    const fs = new SimFileLayer();
    fs.mkdir('/d');
    const fd = fs.open('/d/a', true);
    fs.fsyncDir('/d');
    for (let i = 0; i < 4; i++) writeAll(fs, fd, '/d/a', new Uint8Array(8).fill(i + 1), 0, 8, i * 8);
    for (const damage of ['prefix', 'zeros', 'garbage'] as const) {
      const got = readFile(fs.image(damage, makeRandom(seed)), '/d/a');
      // Whatever survives is the writes in order: 8 bytes of 1, then of 2, ... then maybe a torn part, then the extension.
      let whole = 0;
      while (
        whole < 4 &&
        got.length >= (whole + 1) * 8 &&
        got.subarray(whole * 8, whole * 8 + 8).every((b) => b === whole + 1)
      )
        whole++;
      seen.prefixes.add(whole);
      if (damage === 'prefix') assert.ok(got.length <= 32);
      else assert.is(got.length, 32, `${damage}: the file's size reached the disk`);
      if (damage === 'zeros' && whole < 4 && got.subarray(whole * 8 + 8).every((b) => b === 0)) seen.zeros++;
      if (damage === 'garbage' && whole < 3 && got.subarray(24).some((b) => b > 4)) seen.garbage++;
    }
  }
  assert.equal([...seen.prefixes].sort(), [0, 1, 2, 3, 4], 'every prefix length occurs');
  assert.ok(seen.zeros > 0 && seen.garbage > 0, `zeros ${seen.zeros}, garbage ${seen.garbage}`);
});

test('faults hit the N-th operation they apply to, once or from then on; a crash stops every operation', () => {
  const fs = new SimFileLayer();
  fs.mkdir('/d');
  const fd = fs.open('/d/a', true);
  fs.failAt(2, 'EIO');
  fs.read(fd, new Uint8Array(1), 0, 1, 0);
  const error = threw(() => fs.write(fd, bytes(1), 0, 1, 0));
  assert.ok(isTidemarkError(error, ErrorCode.IO_ERROR) && /EIO/.test((error as Error).message));
  assert.is(fs.write(fd, bytes(1), 0, 1, 0), 1, 'a once-only fault fires once');
  fs.failAt(1, 'ENOSPC', true);
  fs.read(fd, new Uint8Array(1), 0, 1, 0); // ENOSPC does not hit reads
  assert.ok(
    isTidemarkError(
      threw(() => fs.write(fd, bytes(1), 0, 1, 0)),
      ErrorCode.DISK_FULL,
    ),
  );
  assert.ok(
    isTidemarkError(
      threw(() => fs.write(fd, bytes(1), 0, 1, 0)),
      ErrorCode.DISK_FULL,
    ),
    'persistent',
  );
  fs.heal();
  fs.failAt(1, 'short');
  assert.is(fs.write(fd, bytes(1, 2, 3, 4), 0, 4, 0), 2, 'a short write takes half');
  writeAll(fs, fd, '/d/a', bytes(5, 6, 7, 8), 0, 4, 0);
  fs.fdatasync(fd);
  writeAll(fs, fd, '/d/a', bytes(1), 0, 1, 0);
  fs.failAt(1, 'EIO');
  assert.ok(
    isTidemarkError(
      threw(() => fs.fdatasync(fd)),
      ErrorCode.IO_ERROR,
    ),
  );
  assert.equal([...readFile(fs, '/d/a')], [5, 6, 7, 8], 'a failed fdatasync drops the unsynced write');
  fs.failAt(1, 'ENOSPC');
  assert.ok(
    isTidemarkError(
      threw(() => fs.fdatasync(fd)),
      ErrorCode.IO_ERROR,
    ),
    'ENOSPC from fdatasync is an I/O error: the engine stops',
  );
  fs.crashAt(1);
  assert.ok(threw(() => fs.read(fd, new Uint8Array(1), 0, 1, 0)) instanceof SimCrash);
  assert.ok(threw(() => fs.exists('/d/a')) instanceof SimCrash);
});

test('out of space, a write is short, then DISK_FULL; freeing space lets it through', () => {
  const fs = new SimFileLayer();
  fs.mkdir('/d');
  const fd = fs.open('/d/a', true);
  fs.capacityBytes = 10;
  assert.is(fs.write(fd, new Uint8Array(16), 0, 16, 0), 10);
  const error = threw(() => writeAll(fs, fd, '/d/a', new Uint8Array(6), 0, 6, 10));
  assert.ok(isTidemarkError(error, ErrorCode.DISK_FULL), String(error));
  assert.is(fs.write(fd, new Uint8Array(4), 0, 4, 0), 4, 'overwriting takes no space');
  fs.capacityBytes = 100;
  writeAll(fs, fd, '/d/a', new Uint8Array(6), 0, 6, 10);
  assert.is(fs.size('/d/a'), 16);
});

test('the WAL writer: a full disk is DISK_FULL at any point, and the same calls succeed once space returns', () => {
  const SEGMENT = 64 * 1024;
  for (let room = 0; room <= 3 * SEGMENT; room += 7919) {
    const fs = new SimFileLayer();
    fs.mkdir('/w');
    const writer = new WalWriter(fs, '/w', { segmentBytes: SEGMENT, databaseId: 5n, seq: 0, offset: 0 });
    fs.capacityBytes = fs.usedBytes + room;
    const b = new RecordBuilder();
    let full = 0;
    /** Calls `action` until it succeeds, giving back a little space after each DISK_FULL. */
    const retry = <T>(ts: number, action: () => T): T => {
      for (;;) {
        try {
          return action();
        } catch (error) {
          assert.ok(isTidemarkError(error, ErrorCode.DISK_FULL), `room ${room}, commit ${ts}: ${String(error)}`);
          full++;
          fs.capacityBytes += SEGMENT / 2;
        }
      }
    };
    for (let ts = 1; ts <= 600; ts++) {
      b.begin(ts);
      const p = new Uint8Array(200).fill(ts & 255);
      b.op(OP_INSERT, 1, ts, p, 0, p.length);
      b.end();
      retry(ts, () => writer.add(b.bytes, 4, b.length - 4));
      if (ts % 10 === 0)
        assert.is(
          retry(ts, () => writer.sync()),
          ts,
          'a sync that returns covers every commit added',
        );
      if (ts % 50 === 0) retry(ts, () => writer.prepareSpare(8 * 1024));
    }
    if (room < SEGMENT) assert.ok(full > 0, `room ${room}: the disk filled up`);
    const durable = writer.sync();
    writer.close();
    assert.is(durable, 600);
    const seen: number[] = [];
    const visitor = {
      commit: () => {},
      insert: () => {},
      delete: () => {},
      createTable: () => {},
      changeTable: () => {},
      end: (ts: number) => void seen.push(ts),
    };
    replayWal(fs, '/w', (bytes, offset, length, where) => void visitRecord(bytes, offset, length, visitor, where));
    assert.equal(
      seen,
      Array.from({ length: 600 }, (_, i) => i + 1),
      `room ${room}: every commit once, in order (${full} times full)`,
    );
  }
});

test.run();
