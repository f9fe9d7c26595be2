/**
 * A full disk, end to end over the simulated file system: the database
 * turns read-only with TM_DISK_FULL — early, while the next WAL segment
 * cannot be reserved, or when the log cannot be written at all — reads keep
 * working, commits already made stay pending (never acknowledged unwritten,
 * never lost), and writes resume by themselves once space returns.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isTidemarkError, type Database } from '../src/index.js';
import { fileError } from '../src/files/file_layer.js';
import { SimFileLayer } from '../src/files/sim_layer.js';
import { applyTxn, dbHash, modelHashes, openSim, runTxns } from './helpers/sim_db.js';
import { eventually } from './helpers/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const hashes = modelHashes(400);

/** Commits transactions from `from` on (letting the log writer run between them) until one is refused with DISK_FULL; returns the first refused, and the flushes of those made. */
async function commitUntilRefused(
  db: Database,
  from: number,
  limit: number,
): Promise<{ refused: number; flushes: Array<Promise<void>> }> {
  const flushes: Array<Promise<void>> = [];
  for (let i = from; i < from + limit; i++) {
    try {
      db.transactionSync((tx) => applyTxn(tx, i));
    } catch (error) {
      assert.ok(isTidemarkError(error, 'TM_DISK_FULL'), String(error));
      return { refused: i, flushes };
    }
    flushes.push(db.flush());
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`no write was refused in ${limit} transactions`);
}

/** Waits (up to 5 s) until the log reserves its next segment again and the streamer runs. */
async function whenHealthy(db: Database): Promise<void> {
  for (let waited = 0; ; waited += 10) {
    const stats = await db.logStats();
    if (stats.writer!.disk === 'ok' && stats.streamer !== null) return;
    assert.ok(waited < 5000, `still ${stats.writer!.disk} after 5 s`);
    await sleep(10);
  }
}

/** Commits transaction i, waiting (up to 5 s) while writes are refused. */
async function commitWhenWritable(db: Database, i: number): Promise<number> {
  for (let waited = 0; ; waited += 5) {
    try {
      db.transactionSync((tx) => applyTxn(tx, i));
      return waited;
    } catch (error) {
      if (!isTidemarkError(error, 'TM_DISK_FULL') || waited > 5000) throw error;
      await sleep(5);
    }
  }
}

test('early warning: when the next segment cannot be reserved, writes are refused while the commits made still become durable', async () => {
  const layer = new SimFileLayer();
  const db = await openSim(layer, { dir: '/sim/early', checkpointWalBytes: 1024 * 1024 });
  assert.is((await runTxns(db, 1, 20)).error, null);
  layer.capacityBytes = layer.usedBytes + 4096; // no room for another segment
  const { refused, flushes } = await commitUntilRefused(db, 21, 400);
  assert.ok(refused > 21, 'writes go on until the segment is half full');
  const stats = (await db.logStats()).writer!;
  assert.is(stats.disk, 'no-reserve');
  assert.ok(stats.diskFullEvents >= 1);
  await Promise.all(flushes); // the commits made fit the current segment: all durable
  assert.ok(db.table('items').get(refused - 1) !== undefined, 'reads work');
  await assert.not.throws(() => db.table('items').scan());
  layer.capacityBytes = Infinity;
  const waited = await commitWhenWritable(db, refused);
  assert.is((await runTxns(db, refused + 1, refused + 40)).error, null, 'writes resume by themselves');
  assert.is(dbHash(db), hashes[refused + 40]);
  assert.is((await db.logStats()).writer!.disk, 'ok');
  await db.close();
  const again = await openSim(layer, { dir: '/sim/early' });
  assert.is(dbHash(again), hashes[refused + 40], `after ${waited} ms waiting for space, nothing is lost`);
  await again.close();
});

test('stalled: when the log cannot be written, commits in flight stay pending until space returns, and none is lost', async () => {
  const layer = new SimFileLayer();
  const db = await openSim(layer, { dir: '/sim/stalled' });
  assert.is((await runTxns(db, 1, 20)).error, null);
  layer.failAt(1, 'ENOSPC', true); // every write from now on finds the disk full
  let durable = 0;
  const pending = [21, 22, 23].map((i) => {
    db.transactionSync((tx) => applyTxn(tx, i));
    return db.flush().then(() => void (durable = i));
  });
  await eventually(() => db.stats().durability!.disk === 'stalled', 'the log writer finds the disk full');
  assert.is(durable, 0, 'nothing is acknowledged while the log cannot be written');
  assert.is((await db.logStats()).writer!.disk, 'stalled');
  try {
    db.transactionSync((tx) => applyTxn(tx, 24));
    assert.unreachable('a write is refused');
  } catch (error) {
    assert.ok(isTidemarkError(error, 'TM_DISK_FULL'), String(error));
  }
  assert.is(db.table('items').get(23)?.id, 23, 'reads see the commits made');
  layer.heal();
  await Promise.all(pending);
  assert.is(durable, 23);
  await commitWhenWritable(db, 24);
  await whenHealthy(db);
  assert.is((await runTxns(db, 25, 60, { checkpointEvery: 30 })).error, null);
  await db.close();
  const again = await openSim(layer, { dir: '/sim/stalled' });
  assert.is(dbHash(again), hashes[60]);
  await again.close();
});

test('close while the log is stalled gives up at once with TM_DISK_FULL, commits queued behind a full ring included; nothing acknowledged is lost', async () => {
  const layer = new SimFileLayer();
  const db = await openSim(layer, { dir: '/sim/closing' });
  assert.is((await runTxns(db, 1, 20)).error, null);
  layer.failAt(1, 'ENOSPC', true);
  for (let i = 21; i <= 600; i++) db.transactionSync((tx) => applyTxn(tx, i)); // more than the 64 KiB ring holds
  const flushed = db.flush().then(
    () => 'durable',
    (error: Error) => (error as { code?: string }).code,
  );
  await eventually(() => db.stats().durability!.disk === 'stalled', 'the log writer finds the disk full');
  const closed = await Promise.race([
    db.close().then(
      () => 'closed',
      (error: Error) => (error as { code?: string }).code,
    ),
    sleep(3000).then(() => 'hung'),
  ]);
  assert.is(closed, 'TM_DISK_FULL');
  assert.is(await flushed, 'TM_DISK_FULL', 'the commits not written are not acknowledged');
  layer.heal();
  const again = await openSim(layer, { dir: '/sim/closing' });
  const prefix = hashes.indexOf(dbHash(again));
  assert.ok(prefix >= 20, `${prefix} transactions present, 20 acknowledged`);
  await again.close();
});

test('a checkpoint that finds the disk full is refused with TM_DISK_FULL; the streamer restarts by itself', async () => {
  const layer = new SimFileLayer();
  const db = await openSim(layer);
  assert.is((await runTxns(db, 1, 30)).error, null);
  // Fail only what a checkpoint needs: new files (the root's temp file).
  const realOpen = layer.open.bind(layer);
  let blocked = true;
  layer.open = (path: string, create: boolean): number => {
    if (blocked && create && /root-/.test(path)) throw fileError('ENOSPC', path, 'no space left on device');
    return realOpen(path, create);
  };
  try {
    await db.checkpoint();
    assert.unreachable('the checkpoint is refused');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'TM_DISK_FULL', String(error));
  }
  assert.is((await runTxns(db, 31, 50)).error, null, 'commits go on while checkpoints wait for space');
  blocked = false;
  for (let waited = 0; ; waited += 20) {
    try {
      await db.checkpoint();
      break;
    } catch (error) {
      if (!isTidemarkError(error, 'TM_DISK_FULL') || waited > 5000) throw error;
      await sleep(20);
    }
  }
  assert.ok((await db.logStats()).streamerRestarts >= 1);
  await db.close();
  const again = await openSim(layer);
  assert.is(dbHash(again), hashes[50]);
  assert.is(again.recovery!.records, 0, 'the final checkpoint covers everything');
  await again.close();
});

test.run();
