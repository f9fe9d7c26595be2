/**
 * Crash simulation: the workload runs inline over a simulated file system
 * that crashes at every operation index in turn; each crash image (with
 * every damage variant: unsynced writes dropped, a random prefix kept, the
 * extended space zeros or garbage, unsynced directory changes dropped) is
 * reopened — and reopened again after a crash during that recovery — and
 * must equal the model after some prefix of the transactions that holds
 * every acknowledged one: no acknowledged commit lost, no delete undone, no
 * transaction in part.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Database, open } from '../src/index.js';
import { SIM_DAMAGES, SimFileLayer } from '../src/files/sim_layer.js';
import { makeRandom, tempDirs } from './helpers/dirs.js';
import {
  abandon,
  applyTxn,
  DIR,
  dbHash,
  modelHashes,
  openSim,
  prefixOf,
  runTxns,
  SIM_OPTIONS,
} from './helpers/sim_db.js';

const TXNS = Number(process.env.TIDEMARK_SIM_TXNS ?? 150);
const PLAN = { checkpointEvery: 25, mergeEvery: 50 };
const hashes = modelHashes(TXNS);
/** Every this many crash states, the image is also written to a real directory and recovered by 1 and 3 worker threads. */
const REAL_EVERY = 100;
const dirs = tempDirs('tidemark-simcrash-');

/** The image's files in a real directory, opened with `workers` recovery threads; returns its content hash. */
async function realHash(image: SimFileLayer, workers: number): Promise<string> {
  const dir = dirs.make();
  for (const [name, bytes] of image.files(DIR)) if (name !== 'LOCK') writeFileSync(join(dir, name), bytes);
  const db = await open({ ...SIM_OPTIONS, dir, recoveryWorkers: workers });
  try {
    const used = db.recovery!.checkpoint?.workers ?? workers;
    assert.ok(used >= 1 && used <= workers, `recovered with ${used} worker threads (asked for ${workers})`);
    return dbHash(db);
  } finally {
    await db.close();
  }
}

/** Runs the workload over `layer` until it ends or the layer crashes; returns the newest acknowledged transaction. */
async function workload(layer: SimFileLayer, txns = TXNS, plan = PLAN): Promise<number> {
  let db: Database;
  try {
    db = await openSim(layer);
  } catch {
    return 0;
  }
  const run = await runTxns(db, 1, txns, plan);
  if (run.error === null) await db.close().catch(() => {});
  else await abandon(db);
  return run.acked;
}

/** Opens an image and returns the prefix it holds (-1: equals no prefix); rejects if open fails. */
async function recoveredPrefix(layer: SimFileLayer, model = hashes): Promise<number> {
  const db = await openSim(layer);
  try {
    return prefixOf(db, model);
  } finally {
    await abandon(db);
  }
}

test('a crash at every operation of the workload loses no acknowledged commit and undoes no delete', async () => {
  const dry = new SimFileLayer();
  assert.is(await workload(dry), TXNS, 'the workload runs to the end without a crash');
  const total = dry.ops;
  const random = makeRandom(Number(process.env.TIDEMARK_SEED ?? 7));
  let states = 0;
  let recoveryCrashes = 0;
  let realChecks = 0;
  const started = Date.now();
  for (let at = 1; at <= total; at++) {
    if (process.env.TIDEMARK_SIM_PROGRESS)
      console.log(
        `  crash at ${at} of ${total}, ${((Date.now() - started) / 1000).toFixed(1)} s, ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
      );
    const layer = new SimFileLayer();
    layer.crashAt(at);
    const acked = await workload(layer);
    for (const damage of SIM_DAMAGES) {
      const seed = `crash at ${at}, damage ${damage}`;
      let image = layer.image(damage, random);
      if (random(4) === 0) {
        // Crash again while recovering this image, then recover what that left.
        const during = image.image('clean', random);
        during.crashAt(1 + random(60));
        await recoveredPrefix(during).catch(() => {});
        image = during.image(damage, random);
        recoveryCrashes++;
      }
      const real = states % REAL_EVERY === 0 ? [await realHash(image, 1), await realHash(image, 3)] : null;
      let prefix: number;
      try {
        prefix = await recoveredPrefix(image);
      } catch (error) {
        throw new Error(`${seed}: reopening failed: ${(error as Error).message}`);
      }
      if (real !== null) {
        assert.equal(
          real,
          [hashes[prefix], hashes[prefix]],
          `${seed}: recovered by 1 and 3 worker threads on a real disk, the same content`,
        );
        realChecks++;
      }
      assert.ok(prefix >= 0, `${seed}: the recovered content is no prefix of the transactions`);
      assert.ok(prefix >= acked, `${seed}: recovered ${prefix} transactions but ${acked} were acknowledged`);
      states++;
    }
  }
  dirs.cleanup();
  console.log(
    `  crash simulation: ${total} operation indexes × ${SIM_DAMAGES.length} damage variants = ${states} crash states (${recoveryCrashes} with a crash during recovery; ${realChecks} also recovered on a real disk by 1 and 3 worker threads, same content), 0 lost, 0 resurrected, 0 partial, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});

test('a crash at random points of a large workload loses no acknowledged commit and undoes no delete', async () => {
  const txns = Number(process.env.TIDEMARK_SIM_LARGE_TXNS ?? 1500);
  const points = Number(process.env.TIDEMARK_SIM_LARGE_POINTS ?? 24);
  const plan = { checkpointEvery: 100, mergeEvery: 300 };
  const model = modelHashes(txns);
  const dry = new SimFileLayer();
  assert.is(await workload(dry, txns, plan), txns);
  const random = makeRandom(Number(process.env.TIDEMARK_SEED ?? 7) + 1);
  for (let i = 0; i < points; i++) {
    const at = 1 + random(dry.ops);
    const damage = SIM_DAMAGES[random(SIM_DAMAGES.length)]!;
    const layer = new SimFileLayer();
    layer.crashAt(at);
    const acked = await workload(layer, txns, plan);
    const prefix = await recoveredPrefix(layer.image(damage, random), model);
    assert.ok(
      prefix >= 0,
      `crash at ${at} of ${dry.ops}, damage ${damage}: the recovered content is no prefix of the transactions`,
    );
    assert.ok(
      prefix >= acked,
      `crash at ${at} of ${dry.ops}, damage ${damage}: recovered ${prefix} transactions but ${acked} were acknowledged`,
    );
  }
  console.log(
    `  large workload: ${txns} transactions, ${dry.ops} operations, crashed at ${points} random points: 0 lost, 0 resurrected, 0 partial`,
  );
});

test('delayed commits: whatever writeback order a crash leaves, the log opens at a prefix (only its last batch can be torn)', async () => {
  const txns = 200;
  const model = modelHashes(txns);
  const run = async (layer: SimFileLayer): Promise<void> => {
    const db = await openSim(layer, { durability: 'delayed', maxDelayMs: 50, checkpointWalBytes: 1024 * 1024 }).catch(
      () => null,
    );
    if (db === null) return; // crashed while opening
    try {
      for (let i = 1; i <= txns; i++) {
        db.transactionSync((tx) => applyTxn(tx, i));
        await new Promise((resolve) => setImmediate(resolve)); // the log writer runs between commits
      }
      await db.close();
    } catch {
      await abandon(db);
    }
  };
  const dry = new SimFileLayer();
  await run(dry);
  const random = makeRandom(Number(process.env.TIDEMARK_SEED ?? 7) + 2);
  for (let i = 0; i < 40; i++) {
    const layer = new SimFileLayer();
    layer.crashAt(1 + random(dry.ops));
    await run(layer);
    for (let k = 0; k < 5; k++) {
      const prefix = await recoveredPrefix(layer.image('pages', random), model).catch((error: Error) => {
        throw new Error(`crash at ${layer.ops}, pages image ${k}: ${error.message}`);
      });
      assert.ok(prefix >= 0, 'the recovered content is a prefix of the transactions');
    }
  }
});

test.run();
