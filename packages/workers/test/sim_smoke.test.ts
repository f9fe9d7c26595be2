import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimFileLayer } from '@tidemark/core/internal';
import { abandon, dbHash, modelHashes, openSim, runTxns } from './helpers/sim_db.js';

test('a database runs inline over the simulated file system and reopens with its content', async () => {
  const layer = new SimFileLayer();
  const hashes = modelHashes(60);
  const db = await openSim(layer);
  const run = await runTxns(db, 1, 60, { checkpointEvery: 20, mergeEvery: 40 });
  assert.is(run.error, null, String(run.error));
  assert.is(dbHash(db), hashes[60]);
  await db.close();
  const again = await openSim(layer);
  assert.is(dbHash(again), hashes[60]);
  await abandon(again);
});

test.run();
