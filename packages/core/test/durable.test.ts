/**
 * A database directory across restarts: contents survive close/reopen
 * (compared by content hash) through random workloads; the LOCK keeps a
 * second opener out but not a restart after a crash; damaged logs are
 * refused with the file and offset; a torn tail is cut and reported; the
 * log's backlog bound, durability modes and schemaOnly tables.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, isTidemarkError, open, type Database, type TableDef } from '../src/index.js';
import { contentHash, crashImage as crashImageInto, rejectsWith, tempDirs } from './helpers/dirs.js';

const accounts: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'owner', type: 'string' },
    { name: 'balance', type: 'int64', default: 0n },
    { name: 'note', type: 'bytes', nullable: true },
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'byOwner', columns: ['owner'] }],
};
const scratch: TableDef = {
  name: 'scratch',
  columns: [{ name: 'k', type: 'string' }],
  primaryKey: ['k'],
  durability: 'schemaOnly',
};

const dirs = tempDirs('tidemark-durable-');
const tempDir = dirs.make;
const crashImage = (db: Database): Promise<string> => crashImageInto(db, tempDir());
test.after(dirs.cleanup);

test('restart equivalence: random workloads give the same content hash after close and reopen', async () => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('put' as const),
      id: fc.nat(40),
      balance: fc.bigInt(-1000n, 1000n),
      note: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
    }),
    fc.record({ kind: fc.constant('delete' as const), id: fc.nat(40) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 8 }), { maxLength: 40 }), async (txns) => {
      const dir = tempDir();
      let db = await open({ dir, tables: [accounts], walSegmentBytes: 64 * 1024 });
      for (const ops of txns) {
        await db.transaction((tx) => {
          for (const o of ops) {
            if (o.kind === 'put')
              tx.upsert('accounts', { id: o.id, owner: `o${o.id % 5}`, balance: o.balance, note: o.note });
            else if (tx.get('accounts', o.id) !== undefined) tx.delete('accounts', o.id);
          }
        });
      }
      const before = contentHash(db);
      await db.close();
      db = await open({ dir, tables: [accounts] });
      assert.is(contentHash(db), before);
      assert.is(db.recovery!.tornTail, null);
      await db.close();
    }),
    { numRuns: 25 },
  );
});

test('LOCK: a second opener gets TM_LOCKED; a LOCK naming a dead or a live process that holds no lock does not block', async () => {
  const dir = tempDir();
  const db = await open({ dir });
  await rejectsWith(() => open({ dir }), ErrorCode.LOCKED, 'LOCK');
  await db.close();
  // A lock whose owner process has exited: taken over.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  writeFileSync(join(dir, 'LOCK'), `${dead} 1\n`);
  const again = await open({ dir });
  await again.close();
  // A LOCK naming a live process (our parent) that does not hold the operating system's lock: only that lock counts (lock.test.ts).
  const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
  writeFileSync(join(dir, 'LOCK'), `${process.ppid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}\n`);
  await (await open({ dir })).close();
});

test('a damaged WAL batch followed by good ones is CORRUPT; nothing stays open or locked', async () => {
  const db = await open({ dir: tempDir(), tables: [accounts] });
  for (let i = 0; i < 20; i++) await db.table('accounts').insert({ id: i, owner: 'x' });
  const dir = await crashImage(db);
  const segment = join(dir, readdirSync(dir).find((f) => f.startsWith('wal-'))!);
  const bytes = readFileSync(segment);
  bytes[64 + 40]! ^= 0x5a;
  writeFileSync(segment, bytes);
  await rejectsWith(
    () => open({ dir, tables: [accounts] }),
    ErrorCode.CORRUPT,
    `${segment}: bad WAL batch at offset 64`,
  );
  assert.not.ok(existsSync(join(dir, 'LOCK')), 'the lock is released after a failed open');
});

test('a torn tail is cut, reported, and writing goes on after it', async () => {
  let db = await open({ dir: tempDir(), tables: [accounts] });
  for (let i = 0; i < 10; i++) await db.table('accounts').insert({ id: i, owner: 'x' });
  const hash = contentHash(db);
  const dir = await crashImage(db);
  // A crash mid-write leaves the start of a batch that never completed.
  const segment = join(dir, readdirSync(dir).find((f) => f.startsWith('wal-'))!);
  const bytes = readFileSync(segment);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  let at = 64;
  while (v.getUint32(at, true) !== 0) at += (32 + v.getUint32(at + 4, true) + 7) & ~7;
  bytes.writeUInt32LE(0x31424d54, at);
  bytes.writeUInt32LE(500, at + 4);
  bytes.fill(7, at + 8, at + 100);
  writeFileSync(segment, bytes);
  db = await open({ dir, tables: [accounts] });
  assert.equal(db.recovery!.tornTail, { file: segment, offset: at });
  assert.is(contentHash(db), hash);
  await db.table('accounts').insert({ id: 99, owner: 'after' });
  await db.close();
  db = await open({ dir, tables: [accounts] });
  assert.is(db.recovery!.tornTail, null);
  assert.is(db.table('accounts').get(99)!.owner, 'after');
  await db.close();
});

test('IO_ERROR when the directory cannot be made; BUSY past the backlog bound', async () => {
  const file = join(tempDir(), 'a-file');
  writeFileSync(file, 'x');
  await rejectsWith(() => open({ dir: join(file, 'db') }), ErrorCode.IO_ERROR, 'a-file');
  const dir = tempDir();
  // Delayed commits, all in one turn: nothing is published before the ring is full (a durable
  // commit's wait publishes the turn's records once 1 KiB has gathered, and the log writer may then
  // drain the ring between the inserts, faster than they fill it: CI once saw no BUSY that way).
  // Once a record waits in the backlog every later one queues behind it until a later turn, so the
  // bound is passed whatever the writer's speed.
  const db = await open({ dir, tables: [accounts], ringBytes: 64 * 1024, maxBacklogBytes: 0, durability: 'delayed' });
  const t = db.table('accounts');
  const big = new Uint8Array(20_000);
  const pending: Array<Promise<number>> = [];
  let busy: Error | null = null;
  for (let i = 0; i < 10; i++) {
    const p = t.insert({ id: i, owner: 'x', note: big });
    p.catch((e: Error) => (busy ??= e));
    pending.push(p);
  }
  await Promise.allSettled(pending);
  assert.ok(busy !== null && isTidemarkError(busy, ErrorCode.BUSY), String(busy));
  assert.ok((busy as unknown as { retryable: boolean }).retryable);
  const committed = (await Promise.allSettled(pending)).filter((r) => r.status === 'fulfilled').length;
  assert.ok(committed > 0 && committed < 10, `${committed} of 10 inserts acknowledged`);
  await db.close();
  const again = await open({ dir, tables: [accounts] });
  assert.is(
    again.table('accounts').size,
    committed,
    'every acknowledged insert survived; the refused one left nothing',
  );
  await again.close();
});

test('close() with commits queued behind a full ring finishes and keeps every one of them', async () => {
  const dir = tempDir();
  const db = await open({ dir, tables: [accounts], ringBytes: 64 * 1024, durability: 'delayed' });
  const t = db.table('accounts');
  const note = new Uint8Array(5_000);
  // One turn of delayed inserts: far more than the ring holds, so most wait in the backlog when close() starts.
  for (let i = 0; i < 400; i++) void t.insert({ id: i, owner: `o${i % 7}`, note });
  await db.close();
  const again = await open({ dir, tables: [accounts] });
  assert.is(again.table('accounts').size, 400);
  assert.is(again.table('accounts').find('byOwner', 'o3').length, 57);
  await again.close();
});

test('a transaction whose log record would not fit a WAL segment is LIMIT_EXCEEDED before it installs; the log goes on', async () => {
  const dir = tempDir();
  const db = await open({ dir, tables: [accounts], walSegmentBytes: 64 * 1024, durability: 'delayed' });
  const note = new Uint8Array(1_000);
  assert.throws(
    () =>
      db.transactionSync((tx) => {
        for (let i = 0; i < 100; i++) tx.insert('accounts', { id: i, owner: 'x', note });
      }),
    (e: unknown) => isTidemarkError(e, ErrorCode.LIMIT_EXCEEDED) && /walSegmentBytes/.test((e as Error).message),
  );
  assert.is(db.table('accounts').size, 0, 'nothing of it was installed');
  db.transactionSync((tx) => {
    for (let i = 0; i < 20; i++) tx.insert('accounts', { id: i, owner: 'x', note });
  });
  await db.close();
  const again = await open({ dir, tables: [accounts] });
  assert.is(again.table('accounts').size, 20);
  await again.close();
});

test('durability modes, schemaOnly tables and definition checks across a restart', async () => {
  const dir = tempDir();
  let db = await open({ dir, tables: [accounts, scratch], durability: 'delayed' });
  await db.table('accounts').insert({ id: 1, owner: 'delayed' });
  await db.table('accounts').insert({ id: 2, owner: 'durable' }, { durability: 'durable' });
  await db.table('scratch').insert({ k: 'gone after restart' });
  await db.flush();
  await db.close();
  db = await open({ dir, tables: [accounts, scratch] });
  assert.is(db.table('accounts').size, 2);
  assert.is(db.table('scratch').size, 0, 'schemaOnly rows are not kept');
  assert.equal(db.tableNames(), ['accounts', 'scratch'], 'but the schema is');
  await db.close();
  await rejectsWith(
    () => open({ dir, tables: [{ ...accounts, indexes: [] }] }),
    ErrorCode.INVALID_SCHEMA,
    'different definition',
  );
  await rejectsWith(() => open({ dir, walSegmentBytes: 1000 }), ErrorCode.INVALID_OPTION, 'options.walSegmentBytes');
  await rejectsWith(() => open({ dir, ringBytes: 100_000 }), ErrorCode.INVALID_OPTION, 'options.ringBytes');
  // A relation between two options: the message names both.
  await rejectsWith(
    () => open({ dir, walSegmentBytes: 1024 * 1024, checkpointWalBytes: 512 * 1024 }),
    ErrorCode.INVALID_OPTION,
    'options.checkpointWalBytes (524288) must be at least options.walSegmentBytes (1048576)',
  );
  const reopened = await open({ dir });
  await reopened.close();
});

test.run();
