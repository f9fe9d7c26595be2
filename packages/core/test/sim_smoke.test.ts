import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CfpState } from '../src/checkpoint/cfp_format.js';
import { readNewestRoot } from '../src/checkpoint/root_format.js';
import { SimFileLayer } from '../src/files/sim_layer.js';
import { abandon, DIR, dbHash, modelHashes, openSim, runTxns } from './helpers/sim_db.js';

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

function preCreated(layer: SimFileLayer) {
  return readNewestRoot(layer, DIR).root!.cfps.filter((c) => c.state === CfpState.PRECREATED);
}

test('a pre-created pair lost or damaged while the database was closed is dropped and replaced, not taken', async () => {
  const hashes = modelHashes(200);
  for (const damage of ['delete data', 'delete delta', 'flip header'] as const) {
    const layer = new SimFileLayer();
    // The pool is topped up once the pair being written is three quarters full: write, closing each
    // time, until the root a close writes names a pre-created pair.
    let done = 0;
    let pool: ReturnType<typeof preCreated> = [];
    while (pool.length === 0 && done < 120) {
      const db = await openSim(layer);
      assert.is((await runTxns(db, done + 1, done + 10, { checkpointEvery: 20 })).error, null);
      done += 10;
      await db.close();
      pool = preCreated(layer);
    }
    assert.ok(pool.length > 0, `the root names a pre-created pair after ${done} transactions`);
    const id = pool[0]!.id.toString(16).padStart(16, '0');
    const name = `${DIR}/${damage === 'delete delta' ? 'delta' : 'data'}-${id}`;
    if (damage === 'flip header') {
      const bytes = layer.files(DIR).get(name.slice(DIR.length + 1))!;
      bytes[20]! ^= 1;
      layer.put(name, bytes);
    } else layer.unlink(name);
    const damaged = await openSim(layer);
    const run = await runTxns(damaged, done + 1, 200, { checkpointEvery: 20 });
    assert.is(run.error, null, `${damage}: ${String(run.error)}`);
    await damaged.close();
    const db = await openSim(layer);
    assert.is(dbHash(db), hashes[200], damage);
    assert.not.ok(
      readNewestRoot(layer, DIR).root!.cfps.some((c) => c.id === pool[0]!.id),
      `${damage}: the broken pair is no longer named`,
    );
    await abandon(db);
  }
});

test.run();
