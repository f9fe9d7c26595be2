/**
 * Two crashes in a row over the simulated file system: a first process
 * crashes at operation i (every i of its workload), a second opens what that
 * left, commits, and crashes at operation j (a sample of its operations),
 * and the image it leaves must still open — never refused — holding every
 * commit either process was told is durable, as a prefix of the
 * transactions. Row sizes are drawn so that commits meet every amount of
 * room left in a WAL segment: tiny ones that fit, ones just over the rest,
 * and transactions most of a segment long, so crashes land on every step of a
 * rollover (docs/FORMAT.md, "Rollover").
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Database } from '../src/index.js';
import { SIM_DAMAGES, SimFileLayer } from '../src/files/sim_layer.js';
import { makeRandom } from './helpers/dirs.js';
import { abandon, modelHashes, openSim, prefixOf, runTxns, type PadOf } from './helpers/sim_db.js';

const LONG = process.env.TIDEMARK_LONG === '1';
/** Second crashes tried per first crash (each at a random operation of the second process). */
const SECOND_CRASHES = Number(process.env.TIDEMARK_SIM_SECOND_CRASHES ?? (LONG ? 4 : 1));
const FIRST_TXNS = 40;
const SECOND_TXNS = 12;
const SEGMENT_BYTES = 64 * 1024;
/** A ring of 256 KiB takes records up to 128 KiB, so a segment's own limit is the one that binds. */
const OPTIONS = { walSegmentBytes: SEGMENT_BYTES, checkpointWalBytes: 2 * SEGMENT_BYTES, ringBytes: 256 * 1024 };
const PLAN = { checkpointEvery: 16, mergeEvery: 32, group: 3 };

/**
 * Row sizes: a seeded mix of tiny rows, a few hundred bytes, a few KiB, and a quarter to nearly half a
 * segment. A transaction logs its new row and the whole of the row it updates, so two of the largest
 * make one record of most of a segment, still under the largest record a segment takes.
 */
function padsFor(seed: number): PadOf {
  const random = makeRandom(seed);
  const sizes = Array.from({ length: FIRST_TXNS + SECOND_TXNS * 4 + 1 }, () => {
    const kind = random(10);
    if (kind < 3) return 1 + random(60);
    if (kind < 6) return 200 + random(800);
    if (kind < 9) return 2000 + random(6000);
    return SEGMENT_BYTES / 4 + random(SEGMENT_BYTES / 5);
  });
  return (i) => `${i}:`.padEnd(sizes[i % sizes.length]!, '#');
}

/** Runs transactions from..to over `layer` until they end or the layer crashes; returns the newest acknowledged one. */
async function workload(
  layer: SimFileLayer,
  padOf: PadOf,
  model: string[],
  count: number,
): Promise<{ acked: number; opened: number }> {
  let db: Database;
  try {
    db = await openSim(layer, OPTIONS);
  } catch {
    return { acked: 0, opened: -1 };
  }
  const opened = prefixOf(db, model);
  if (opened < 0) {
    await abandon(db);
    throw new Error('the second process opened a state that is no prefix of the transactions');
  }
  const run = await runTxns(db, opened + 1, opened + count, { ...PLAN, padOf });
  if (run.error === null) await db.close().catch(() => {});
  else await abandon(db);
  return { acked: run.acked, opened };
}

/** Opens an image and returns the prefix it holds (-1: no prefix); rejects if open fails. */
async function recoveredPrefix(layer: SimFileLayer, model: string[]): Promise<number> {
  const db = await openSim(layer, OPTIONS);
  try {
    return prefixOf(db, model);
  } finally {
    await abandon(db);
  }
}

async function crashTwice(seed: number): Promise<{ firsts: number; states: number }> {
  const padOf = padsFor(seed);
  const model = modelHashes(FIRST_TXNS + SECOND_TXNS * 2, padOf);
  const dry = new SimFileLayer();
  assert.is(
    (await workload(dry, padOf, model, FIRST_TXNS)).acked,
    FIRST_TXNS,
    'the first workload runs to the end without a crash',
  );
  const random = makeRandom(seed * 31 + 1);
  let states = 0;
  for (let i = 1; i <= dry.ops; i++) {
    const first = new SimFileLayer();
    first.crashAt(i);
    const ackedFirst = (await workload(first, padOf, model, FIRST_TXNS)).acked;
    const image = first.image(SIM_DAMAGES[random(SIM_DAMAGES.length)]!, random);
    // The second process's operations, counted once without a crash, give the range its crash is drawn from.
    const probe = image.image('clean', random);
    const before = probe.ops;
    await workload(probe, padOf, model, SECOND_TXNS);
    const secondOps = probe.ops - before;
    for (let k = 0; k < SECOND_CRASHES; k++) {
      const second = image.image('clean', random);
      const j = 1 + random(Math.max(1, secondOps));
      second.crashAt(j);
      const { acked: ackedSecond } = await workload(second, padOf, model, SECOND_TXNS);
      const damage = SIM_DAMAGES[random(SIM_DAMAGES.length)]!;
      const where = `seed ${seed}, first crash at ${i} of ${dry.ops}, second at ${j} of ${secondOps}, damage ${damage}`;
      let prefix: number;
      try {
        prefix = await recoveredPrefix(second.image(damage, random), model);
      } catch (error) {
        throw new Error(`${where}: reopening failed: ${(error as Error).message}`);
      }
      assert.ok(prefix >= 0, `${where}: the recovered content is no prefix of the transactions`);
      assert.ok(
        prefix >= Math.max(ackedFirst, ackedSecond),
        `${where}: recovered ${prefix} transactions, ${ackedFirst} then ${ackedSecond} acknowledged`,
      );
      states++;
    }
  }
  return { firsts: dry.ops, states };
}

test('two crashes in a row, around every step of a WAL rollover: the directory always opens, nothing acknowledged lost', async () => {
  const started = Date.now();
  let firsts = 0;
  let states = 0;
  for (const seed of LONG ? [1, 2, 3] : [1]) {
    const run = await crashTwice(seed);
    firsts += run.firsts;
    states += run.states;
  }
  console.log(
    `  double crash: ${firsts} first-crash points × ${SECOND_CRASHES} second crash(es) = ${states} crash states, 0 refused, 0 lost, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});

test.run();
