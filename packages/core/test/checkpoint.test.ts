/**
 * Checkpoint file pairs: contents survive checkpoints, pair closes, WAL
 * recycling, clean restarts and crash images (compared with a model); a
 * delete lands in the delta file of the pair holding the row; the WAL on
 * disk stays bounded; roots, missing and short files follow the rules.
 */
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CfpState,
  ErrorCode,
  open,
  type CheckpointFile,
  type Database,
  type OpenOptions,
  type TableDef,
} from '../src/index.js';
import { contentHash, crashImage, rejectsWith, tempDirs } from './helpers/dirs.js';
import { streamedUp } from './helpers/wait.js';

const items: TableDef = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'label', type: 'string' },
    { name: 'qty', type: 'float64' },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byLabel', columns: ['label'] }],
};
const KiB = 1024;
/** Small files, so a short test crosses dozens of pairs and recycles WAL segments. */
// Merges off: these tests count pairs, and crash images are copied while the workers run, a real crash state only if no root is written meanwhile (merge.test.ts covers merges).
const small: OpenOptions = {
  tables: [items],
  dataFileSizeBytes: 64 * KiB,
  walSegmentBytes: 64 * KiB,
  checkpointWalBytes: 128 * KiB,
  merges: false,
};

const dirs = tempDirs('tidemark-checkpoint-');
test.after(dirs.cleanup);

type Model = Map<number, { id: number; label: string; qty: number }>;

function modelHash(model: Model): Promise<string> {
  return (async () => {
    const db = await open({ tables: [items] });
    for (const row of model.values()) void db.table('items').insert(row, { durability: 'delayed' });
    const hash = contentHash(db);
    await db.close();
    return hash;
  })();
}

const pairs = (files: CheckpointFile[], state?: string): CheckpointFile[] =>
  files.filter((f) => f.kind === 'data' && (state === undefined || f.state === state));

test('restart equivalence across checkpoints, pair closes, WAL recycling, restarts and crash images', async () => {
  const op = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('put' as const),
        id: fc.nat(300),
        label: fc.tuple(fc.string({ maxLength: 20 }), fc.nat(1500)).map(([s, n]) => s + '.'.repeat(n)),
        qty: fc.double({ noNaN: true }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.nat(300) }) },
  );
  const phase = fc.record({
    txns: fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), { maxLength: 60, size: 'large' }),
    // biome-ignore lint/suspicious/noThenProperty: the step after a phase's transactions; the record is no thenable
    then: fc.constantFrom('checkpoint' as const, 'reopen' as const, 'crash' as const, 'nothing' as const),
  });
  let maxPairs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(phase, { minLength: 1, maxLength: 6 }), async (phases) => {
      let dir = dirs.make();
      const model: Model = new Map();
      let db = await open({ ...small, dir });
      for (const { txns, then } of phases) {
        const run = (ops: (typeof txns)[number]): void =>
          db.transactionSync(
            (tx) => {
              for (const o of ops) {
                if (o.kind === 'put') {
                  const row = { id: o.id, label: o.label, qty: o.qty };
                  tx.upsert('items', row);
                  model.set(o.id, row);
                } else if (tx.get('items', o.id) !== undefined) {
                  tx.delete('items', o.id);
                  model.delete(o.id);
                }
              }
            },
            { durability: 'delayed' },
          );
        txns.forEach(run);
        if (then === 'checkpoint') await db.checkpoint();
        if (then === 'reopen' || then === 'crash') {
          if (then === 'reopen') await db.close();
          // The WAL tail after the image's checkpoint: the phase's last transactions again (the same
          // puts and deletes in the same order leave the same state), well under the trigger.
          else dir = await crashImage(db, dirs.make(), () => txns.slice(-3).forEach(run));
          db = await open({ ...small, dir });
          assert.is(db.recovery!.tornTail, null);
        }
      }
      maxPairs = Math.max(maxPairs, pairs(await db.checkpointFiles()).length);
      await db.close();
      db = await open({ ...small, dir });
      assert.is(contentHash(db), await modelHash(model));
      await db.close();
    }),
    { numRuns: 30, seed: 20261121, endOnFailure: true },
  );
  assert.ok(maxPairs >= 8, `the runs reached ${maxPairs} pairs`);
});

test('a long run crosses dozens of pairs through checkpoints, restarts and crash images', async () => {
  let dir = dirs.make();
  const model: Model = new Map();
  let db = await open({ ...small, dir });
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const actions = ['checkpoint', 'reopen', 'crash', 'nothing'] as const;
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 300; i++) {
      const id = random(1000);
      if (random(4) === 0 && model.has(id)) {
        void db.table('items').delete(id, { durability: 'delayed' });
        model.delete(id);
      } else {
        const row = { id, label: `${round}:${i}:`.padEnd(200 + random(800), '-'), qty: round * i };
        void db.table('items').upsert(row, { durability: 'delayed' });
        model.set(id, row);
      }
    }
    const action = actions[random(actions.length)]!;
    if (action === 'checkpoint') await db.checkpoint();
    if (action === 'reopen' || action === 'crash') {
      if (action === 'reopen') await db.close();
      else {
        dir = await crashImage(db, dirs.make(), () => {
          for (let i = 0; i < 40; i++) {
            const row = { id: random(1000), label: `tail ${round}:${i}`, qty: -i };
            void db.table('items').upsert(row, { durability: 'delayed' });
            model.set(row.id, row);
          }
        });
      }
      db = await open({ ...small, dir });
    }
  }
  const closed = pairs(await db.checkpointFiles()).length;
  await db.close();
  db = await open({ ...small, dir });
  assert.is(contentHash(db), await modelHash(model));
  assert.ok(closed >= 24, `the run crossed ${closed} pairs`);
  await db.close();
});

test('a delete lands in the delta file of the pair whose commit range holds the row', async () => {
  const dir = dirs.make();
  const db = await open({ ...small, dir });
  const t = db.table('items');
  const insertedAt = new Map<number, number>();
  for (let id = 0; id < 12000; id++)
    insertedAt.set(
      id,
      await t.insert({ id, label: `item ${id} `.padEnd(60, '.'), qty: id }, { durability: 'delayed' }),
    );
  await db.checkpoint();
  const closed = pairs(await db.checkpointFiles(), CfpState.ACTIVE);
  assert.ok(closed.length >= 15, `${closed.length} closed pairs`);
  // Delete every 7th row and update every 11th (an update ends the old version too).
  const expected = new Map<number, number>();
  const inventory = pairs(await db.checkpointFiles());
  const pairOf = (commitTs: number): number =>
    inventory.find((p) => p.firstCommitTs! <= commitTs && commitTs <= p.lastCommitTs!)!.pairId!;
  for (let id = 0; id < 12000; id++) {
    if (id % 7 !== 0 && id % 11 !== 0) continue;
    const pair = pairOf(insertedAt.get(id)!);
    expected.set(pair, (expected.get(pair) ?? 0) + 1);
    if (id % 7 === 0) void t.delete(id, { durability: 'delayed' });
    else void t.update(id, { qty: -id }, { durability: 'delayed' });
  }
  await db.checkpoint();
  const files = await db.checkpointFiles();
  for (const delta of files.filter((f) => f.kind === 'delta' && f.state !== CfpState.PRECREATED)) {
    assert.is(delta.tombstones, expected.get(delta.pairId!) ?? 0, `tombstones of pair ${delta.pairId}`);
  }
  // Closed data files never change; their rows counts are what was inserted.
  const after = pairs(files, CfpState.ACTIVE);
  for (const before of closed) assert.equal(after.find((p) => p.pairId === before.pairId)!.usedBytes, before.usedBytes);
  const hash = contentHash(db);
  await db.close();
  const again = await open({ ...small, dir });
  assert.is(contentHash(again), hash);
  assert.is(
    again.recovery!.checkpoint!.skipped,
    [...expected.values()].reduce((a, b) => a + b, 0),
  );
  await again.close();
});

test('under a steady workload the WAL on disk stays within the checkpoint trigger plus one segment', async () => {
  const dir = dirs.make();
  const segment = 64 * KiB;
  const trigger = 4 * segment;
  const db = await open({ ...small, dir, walSegmentBytes: segment, checkpointWalBytes: trigger });
  const walBytes = (): number =>
    readdirSync(dir)
      .filter((n) => /^wal-[0-9a-f]{16}$/.test(n))
      .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
  let most = 0;
  for (let round = 0; round < 60; round++) {
    for (let i = 0; i < 100; i++)
      void db
        .table('items')
        .upsert({ id: (round * 100 + i) % 500, label: 'x'.repeat(300), qty: round }, { durability: 'delayed' });
    // A workload the streamer keeps up with: each round waits for it (a fixed pause could be too
    // short on a loaded machine, where the streamer runs at a lower priority than the commit path).
    await streamedUp(db);
    most = Math.max(most, walBytes());
  }
  const { writer, streamer } = await db.logStats();
  await db.close();
  assert.ok(writer!.segmentsRecycled > 0, `${writer!.segmentsRecycled} segments recycled`);
  assert.ok(streamer!.checkpoints > 3, `${streamer!.checkpoints} checkpoints`);
  assert.ok(streamer!.walBytesStreamed > 5 * trigger, `${streamer!.walBytesStreamed} WAL bytes streamed`);
  assert.ok(
    most <= trigger + segment,
    `the WAL reached ${most} bytes on disk (trigger ${trigger}, segment ${segment})`,
  );
  // The streamer's waits for a core are part of its busy time (on Linux; no clock elsewhere).
  for (const [wait, busy] of [
    [streamer!.streamCoreWaitMs, streamer!.streamMs],
    [streamer!.checkpointCoreWaitMs, streamer!.checkpointMs],
  ] as const) {
    if (process.platform !== 'linux') assert.is(wait, null);
    else assert.ok(wait !== null && wait >= 0 && wait <= busy + 1, `waited ${wait} ms for a core in ${busy} ms`);
  }
});

test('the newest root that verifies wins; a torn one is skipped with a warning', async () => {
  const dir = dirs.make();
  let db = await open({ ...small, dir, checkpointWalBytes: 1 << 20 });
  for (let id = 0; id < 50; id++) void db.table('items').insert({ id, label: 'r', qty: id }, { durability: 'delayed' });
  await db.close();
  const roots = readdirSync(dir)
    .filter((n) => n.startsWith('root-'))
    .sort();
  const newest = roots[roots.length - 1]!;
  const seq = Number.parseInt(newest.slice(5), 16);
  // A newer root that never finished: its first half only.
  const torn = join(dir, `root-${(seq + 1).toString(16).padStart(16, '0')}`);
  const bytes = readFileSync(join(dir, newest));
  writeFileSync(torn, bytes.subarray(0, bytes.length >> 1));
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    db = await open({ ...small, dir });
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  assert.is(db.recovery!.root, join(dir, newest));
  assert.is(db.recovery!.skippedRoots.length, 1);
  assert.match(db.recovery!.skippedRoots[0]!.file, torn);
  assert.ok(
    warnings.some((w) => w.includes(torn)),
    'a warning names the skipped root',
  );
  assert.is(db.table('items').scan().length, 50);
  await db.close();
});

test('when no root file verifies, open is CORRUPT naming them and removes nothing', async () => {
  const dir = dirs.make();
  const db = await open({ ...small, dir });
  for (let id = 0; id < 2000; id++)
    void db.table('items').insert({ id, label: 'z'.repeat(40), qty: id }, { durability: 'delayed' });
  await db.close();
  const roots = readdirSync(dir).filter((n) => n.startsWith('root-'));
  assert.ok(roots.length >= 1);
  for (const name of roots) {
    const bytes = readFileSync(join(dir, name));
    bytes[bytes.length - 2]! ^= 0xff; // a bit flip in the body: its checksum fails
    writeFileSync(join(dir, name), bytes);
  }
  const before = readdirSync(dir).sort();
  await rejectsWith(() => open({ ...small, dir }), ErrorCode.CORRUPT, roots[0]!);
  assert.equal(
    readdirSync(dir)
      .filter((n) => n !== 'LOCK')
      .sort(),
    before.filter((n) => n !== 'LOCK'),
    'no file was removed',
  );
});

test('a file the root names that is missing or short is CORRUPT naming it; leftovers after the root are removed', async () => {
  const build = async (): Promise<string> => {
    const dir = dirs.make();
    const db = await open({ ...small, dir });
    for (let id = 0; id < 2000; id++)
      void db.table('items').insert({ id, label: 'y'.repeat(40), qty: id }, { durability: 'delayed' });
    for (let id = 0; id < 2000; id += 5) void db.table('items').delete(id, { durability: 'delayed' });
    await db.close();
    return dir;
  };
  let dir = await build();
  const data = readdirSync(dir).find((n) => n === 'data-0000000000000001')!;
  unlinkSync(join(dir, data));
  await rejectsWith(
    () => open({ ...small, dir }),
    ErrorCode.CORRUPT,
    `${join(dir, data)}: the data file named by the root is missing`,
  );
  assert.not.ok(existsSync(join(dir, 'LOCK')), 'nothing stays locked');

  dir = await build();
  const delta = join(dir, 'delta-0000000000000001');
  truncateSync(delta, statSync(delta).size - 8);
  await rejectsWith(() => open({ ...small, dir }), ErrorCode.CORRUPT, `${delta}: delta file is`);

  dir = await build();
  const stray = join(dir, 'data-00000000000fffff');
  writeFileSync(stray, new Uint8Array(128));
  const db = await open({ ...small, dir });
  assert.ok(db.recovery!.removedFiles.includes('data-00000000000fffff'));
  assert.not.ok(existsSync(stray));
  await db.close();
});

test('checkpoints: false runs no streamer: the WAL is replayed whole and checkpoint() says why it cannot', async () => {
  const dir = dirs.make();
  await rejectsWith(
    () => open({ ...small, dir, checkpoints: 'no' as never }),
    ErrorCode.INVALID_OPTION,
    'options.checkpoints',
  );
  let db = await open({ ...small, dir, checkpoints: false });
  for (let id = 0; id < 500; id++)
    void db.table('items').insert({ id, label: 'w'.repeat(200), qty: id }, { durability: 'delayed' });
  await rejectsWith(() => db.checkpoint(), ErrorCode.INVALID_OPTION, 'options.checkpoints');
  await db.flush();
  const files = await db.checkpointFiles();
  assert.is(files.filter((f) => f.kind === 'data' || f.kind === 'root').length, 0);
  assert.ok(files.filter((f) => f.kind === 'wal').length > 1, 'the WAL spans several segments');
  const hash = contentHash(db);
  await db.close();
  db = await open({ ...small, dir, checkpoints: false });
  assert.is(db.recovery!.root, null);
  assert.is(db.recovery!.records, 501);
  assert.is(contentHash(db), hash);
  await db.close();
  // Turned back on, the whole WAL is streamed into the first checkpoint.
  db = await open({ ...small, dir });
  const result = await db.checkpoint();
  assert.ok(result !== null && result.checkpointTs >= 501);
  await db.close();
});

test('checkpoint() and checkpointFiles() need a directory: TM_NO_DIRECTORY in memory', async () => {
  const db: Database = await open({ tables: [items] });
  await rejectsWith(() => db.checkpoint(), ErrorCode.NO_DIRECTORY);
  await rejectsWith(() => db.checkpointFiles(), ErrorCode.NO_DIRECTORY);
  await db.close();
  await rejectsWith(() => db.checkpoint(), ErrorCode.CLOSED);
});

test.run();
