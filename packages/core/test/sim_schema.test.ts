/**
 * Schema changes under crashes: a workload of transactions with schema
 * changes between them (columns added, renamed and dropped, indexes built
 * online and dropped, a table created and dropped), checkpoints and merges
 * among them, runs over a simulated file system that crashes at every
 * operation index in turn. Each crash image (every damage variant, and
 * sometimes a second crash during its recovery) must reopen to the state
 * after some prefix of the steps that holds every acknowledged one: the
 * schema exactly that of the last acknowledged change, its indexes built,
 * no row lost or resurrected. The model is the same workload in memory.
 */
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Database, open, type Transaction } from '../src/index.js';
import { SIM_DAMAGES, SimFileLayer } from '../src/files/sim_layer.js';
import { makeRandom } from './helpers/dirs.js';
import { abandon, openSim, SIM_OPTIONS } from './helpers/sim_db.js';

const STEPS = Number(process.env.TIDEMARK_SIM_SCHEMA_STEPS ?? 56);
const PLAN = { checkpointEvery: 12, mergeEvery: 24 };
const OTHER = { name: 'other', columns: [{ name: 'k', type: 'int32' as const }], primaryKey: ['k'] };

/** The schema changes, by step; every other step is a transaction. */
const CHANGES: Record<number, (db: Database) => Promise<unknown>> = {
  6: (db) => db.table('items').addColumn({ name: 'tag', type: 'string', nullable: true }),
  11: (db) => db.table('items').addIndex({ name: 'byV', columns: ['v'], kind: 'ordered' }),
  16: (db) => db.table('items').addColumn({ name: 'score', type: 'int64', default: 7n }),
  21: (db) => db.table('items').renameColumn('pad', 'body'),
  26: (db) => db.table('items').addIndex({ name: 'byTag', columns: ['tag'] }),
  31: (db) => db.table('items').dropIndex('byTag'),
  33: (db) => db.table('items').dropColumn('tag'),
  37: async (db) => {
    db.createTable(OTHER);
    await db.table('other').insert({ k: 1 });
  },
  43: (db) => db.dropTable('other'),
  47: (db) => db.table('items').addIndex({ name: 'idScore', columns: ['id', 'score'], unique: true }),
};

/** Transaction i: inserts row i with the columns the table has now, bumps row i - 3, deletes row i - 7 (if there are: change steps insert none). */
function applyTxn(tx: Transaction, db: Database, i: number): void {
  const columns = db.table('items').schema.columnsByName;
  const row: Record<string, unknown> = { id: i, v: 0, [columns.has('body') ? 'body' : 'pad']: `row ${i} `.padEnd(200) };
  if (columns.has('tag')) row.tag = `t${i % 5}`;
  if (columns.has('score')) row.score = BigInt(i);
  tx.insert('items', row);
  if (i > 3 && tx.get('items', i - 3) !== undefined) tx.update('items', i - 3, { v: i });
  if (i > 7 && i % 3 !== 0 && tx.get('items', i - 7) !== undefined) tx.delete('items', i - 7);
}

/** Tables, schemas, rows, and what each index finds: a recovered index must be whole. */
function stateHash(db: Database): string {
  const h = createHash('sha256');
  const json = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);
  for (const name of db.tableNames().sort()) {
    const t = db.table(name);
    const s = t.schema;
    h.update(JSON.stringify([name, s.version, s.columns.map((c) => [c.name, c.type, c.nullable])]));
    const rows = t.scan().sort((a, b) => (a as { id: number }).id - (b as { id: number }).id);
    h.update(JSON.stringify(rows, json));
    for (const ix of s.indexes) {
      const columns = ix.columns.map((c) => s.columns[c]!.name);
      const found = rows.map((r) => t.find(ix.name, columns.length === 1 ? r[columns[0]!] : columns.map((c) => r[c])));
      h.update(JSON.stringify([ix.name, ix.kind, ix.unique, columns, found.map((f) => f.length)]));
    }
  }
  return h.digest('hex');
}

interface Run {
  acked: number;
  error: unknown;
}

/** Runs steps 1..STEPS; a change is acknowledged when its promise resolves, transactions in groups of 3. */
async function runSteps(db: Database, onStep?: (step: number) => void): Promise<Run> {
  const run: Run = { acked: 0, error: null };
  try {
    for (let i = 1; i <= STEPS; i++) {
      const change = CHANGES[i];
      if (change !== undefined) await change(db);
      else db.transactionSync((tx) => applyTxn(tx, db, i));
      onStep?.(i);
      if (change !== undefined || i % 3 === 0 || i === STEPS) {
        await db.flush();
        run.acked = i;
      }
      if (db.dir !== null && i % PLAN.checkpointEvery === 0) await db.checkpoint();
      if (db.dir !== null && i % PLAN.mergeEvery === 0) await db.merge();
    }
  } catch (error) {
    run.error = error;
  }
  return run;
}

async function modelHashes(): Promise<string[]> {
  const db = await open({ tables: SIM_OPTIONS.tables });
  const hashes = [stateHash(db)];
  const run = await runSteps(db, () => hashes.push(stateHash(db)));
  if (run.error !== null) throw run.error;
  await db.close();
  return hashes;
}

async function workload(layer: SimFileLayer): Promise<number> {
  let db: Database;
  try {
    db = await openSim(layer);
  } catch {
    return 0;
  }
  const run = await runSteps(db);
  if (run.error === null) await db.close().catch(() => {});
  else await abandon(db);
  return run.acked;
}

/** The prefix an image reopens to (-1: none); opened without table definitions, so the stored catalog is used. */
async function recoveredPrefix(layer: SimFileLayer, hashes: string[]): Promise<number> {
  const db = await openSim(layer, { tables: [] });
  try {
    if (db.tableNames().length === 0) return 0; // the crash came before the first open made its table: nothing was acknowledged
    return hashes.indexOf(stateHash(db));
  } finally {
    await abandon(db);
  }
}

test('a crash at every operation of a workload with schema changes recovers the last acknowledged schema and rows', async () => {
  const hashes = await modelHashes();
  assert.is(new Set(hashes).size, hashes.length, 'every step changes the state');
  const dry = new SimFileLayer();
  assert.is(await workload(dry), STEPS, 'the workload runs to the end without a crash');
  assert.is(await recoveredPrefix(dry, hashes), STEPS, 'a clean close reopens to the last step');
  const random = makeRandom(Number(process.env.TIDEMARK_SEED ?? 11));
  let states = 0;
  let recoveryCrashes = 0;
  for (let at = 1; at <= dry.ops; at++) {
    const layer = new SimFileLayer();
    layer.crashAt(at);
    const acked = await workload(layer);
    for (const damage of SIM_DAMAGES) {
      const seed = `crash at ${at} of ${dry.ops}, damage ${damage}`;
      let image = layer.image(damage, random);
      if (random(4) === 0) {
        const during = image.image('clean', random);
        during.crashAt(1 + random(60));
        await recoveredPrefix(during, hashes).catch(() => {});
        image = during.image(damage, random);
        recoveryCrashes++;
      }
      const prefix = await recoveredPrefix(image, hashes).catch((error: Error) => {
        throw new Error(`${seed}: reopening failed: ${error.message}`);
      });
      assert.ok(prefix >= 0, `${seed}: the recovered state is no prefix of the steps`);
      assert.ok(prefix >= acked, `${seed}: recovered ${prefix} steps but ${acked} were acknowledged`);
      states++;
    }
  }
  console.log(
    `  schema changes under crashes: ${dry.ops} operation indexes, ${states} crash states (${recoveryCrashes} with a crash during recovery), 0 lost, 0 partial`,
  );
});

test.run();
