/**
 * Online backup and restore. db.backup() taken while commits go on holds
 * exactly the commits up to the commitTs it resolves with (every one
 * acknowledged before the call among them), opens, and verifies; `tidemark
 * backup` of a directory a child process is writing at full rate (no LOCK
 * taken) gives copies that each hold one consistent state, also after the
 * child is SIGKILLed; `tidemark restore --to` replays a backup's log up to a
 * chosen commit, a batch of many commits cut in its middle included.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, verify } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { rejectsWith, tempDirs, keysIn } from './helpers/dirs.js';
import { eventually } from './helpers/wait.js';
// @ts-expect-error: a plain .mjs fixture, shared with the child process
import { balancesAfter, receiptsAfter } from './fixtures/crash_model.mjs';

const dirs = tempDirs('tidemark-backup-');
const ITEMS = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int32' as const },
    { name: 'v', type: 'string' as const },
  ],
  primaryKey: ['id'],
};

const idsIn = (dir: string): Promise<number[]> => keysIn(dir, 'items', 'id');

test('db.backup() while commits go on: exactly the commits up to its commitTs, every earlier one included; it opens and verifies', async () => {
  const db = await open({
    dir: dirs.make(),
    tables: [ITEMS],
    dataFileSizeBytes: 256 * 1024,
    walSegmentBytes: 256 * 1024,
    checkpointWalBytes: 512 * 1024,
  });
  const committedAt = new Map<number, number>();
  let next = 0;
  const write = async (): Promise<void> => {
    const id = next++;
    committedAt.set(id, await db.table('items').insert({ id, v: `row ${id}`.padEnd(100) }));
  };
  for (let i = 0; i < 3000; i++) await write();
  let running = true;
  const writer = (async () => {
    while (running) await write();
  })();
  const acknowledged = [...committedAt.keys()];
  let files = 0;
  const dest = join(dirs.make(), 'copy');
  const result = await db.backup(dest, { onProgress: (p) => (files = p.files) });
  running = false;
  await writer;
  await db.close();
  assert.ok(files > 0, 'progress was reported');
  assert.ok(next > 3000, 'commits went on during the backup');
  const expected = [...committedAt]
    .filter(([, ts]) => ts <= result.commitTs)
    .map(([id]) => id)
    .sort((a, b) => a - b);
  for (const id of acknowledged)
    assert.ok(committedAt.get(id)! <= result.commitTs, `commit ${id} was acknowledged before the backup`);
  assert.equal(await idsIn(dest), expected, `the copy holds exactly the commits up to ${result.commitTs}`);
  const report = await verify(dest);
  assert.ok(report.ok, JSON.stringify(report.problems));
  await rejectsWith(
    () => open({ dir: dirs.make(), tables: [ITEMS] }).then((d) => d.backup(dest).finally(() => d.close())),
    'TM_INVALID_OPTION',
    'not empty',
  );
  await rejectsWith(() => open().then((d) => d.backup(dirs.make()).finally(() => d.close())), 'TM_NO_DIRECTORY');
  await rejectsWith(
    () =>
      open({ dir: dirs.make() }).then((d) =>
        d.backup(join(dirs.make(), 'x'), { bytesPerSecond: 0 }).finally(() => d.close()),
      ),
    'TM_INVALID_OPTION',
    'bytesPerSecond',
  );
});

test('tidemark restore --to: the backup replayed up to each chosen commit, a batch of many commits cut in its middle', async () => {
  const dir = dirs.make();
  const db = await open({ dir, tables: [ITEMS], checkpointIntervalMs: 0 });
  const committedAt: number[] = [];
  for (let id = 0; id < 200; id++) committedAt.push(await db.table('items').insert({ id, v: 'a' }));
  await db.checkpoint();
  // Delayed commits in one turn: the log writer puts many of them in one batch.
  let between = '';
  for (let id = 200; id < 1200; id++) {
    committedAt.push(await db.table('items').insert({ id, v: 'b' }, { durability: 'delayed' }));
    if (id === 699) {
      // A wall-clock point between two runs of batches, for a restore by time.
      await db.flush();
      await new Promise((resolve) => setTimeout(resolve, 30));
      between = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }
  await db.flush();
  // From beside the open database (as from another process): the copy holds the checkpoint and the WAL after it.
  const backup = join(dirs.make(), 'backup');
  assert.is((await cli('backup', dir, backup)).status, 0);
  await db.close();
  const points = [committedAt[199]!, committedAt[200]!, committedAt[555]!, committedAt[1000]!, committedAt[1199]!];
  for (const to of points) {
    const dest = join(dirs.make(), 'restored');
    const run = await cli('restore', backup, dest, '--to', String(to));
    assert.is(run.status, 0, run.err);
    const expected = committedAt.flatMap((ts, id) => (ts <= to ? [id] : []));
    assert.equal(await idsIn(dest), expected, `restored to ${to}`);
    assert.ok((await verify(dest)).ok, `the copy restored to ${to} verifies`);
    const reopened = await open({ dir: dest });
    await reopened.table('items').insert({ id: 5000, v: 'after' }); // the log goes on where the cut left it
    await reopened.close();
    assert.equal((await idsIn(dest)).at(-1), 5000);
  }
  const byTime = join(dirs.make(), 'by-time');
  const run = await cli('restore', backup, byTime, '--to', between);
  assert.is(run.status, 0, run.err);
  assert.equal(
    await idsIn(byTime),
    committedAt.slice(0, 700).map((_, id) => id),
    `restored to ${between}`,
  );
  assert.is((await cli('restore', backup, join(dirs.make(), 'y'), '--to', 'yesterday-ish')).status, 2);
  const early = await cli('restore', backup, join(dirs.make(), 'x'), '--to', '5');
  assert.is(early.status, 1);
  assert.match(early.err, 'earlier backup');
});

test('tidemark backup of a directory a child writes at full rate: each copy is one consistent state, also after a SIGKILL', async () => {
  const dir = dirs.make();
  const child = fileURLToPath(new URL('./fixtures/crash_child.mjs', import.meta.url));
  const proc = spawn(process.execPath, [child, dir, '64'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let acked = 0;
  proc.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n'))
      if (line.startsWith('ack ')) acked = Math.max(acked, Number(line.slice(4)));
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const copies: string[] = [];
  try {
    await eventually(() => acked > 200, 'the child commits', 30_000);
    for (let i = 0; i < 3; i++) {
      const dest = join(dirs.make(), `copy${i}`);
      const run = await cli('backup', dir, dest);
      assert.is(run.status, 0, run.err);
      copies.push(dest);
    }
  } finally {
    proc.kill('SIGKILL');
    await exited;
  }
  copies.push(join(dirs.make(), 'after-kill'));
  assert.is((await cli('backup', dir, copies.at(-1)!)).status, 0);
  for (const copy of copies) {
    const db = await open({ dir: copy, readOnly: true });
    const n = (db.table('meta').get('n')?.value as number | undefined) ?? 0;
    const balances = db
      .table('accounts')
      .scan()
      .sort((a, b) => (a.id as number) - (b.id as number))
      .map((r) => r.balance);
    const receipts = db
      .table('receipts')
      .scan()
      .map((r) => r.n as number)
      .sort((a, b) => a - b);
    await db.close();
    assert.ok(n > 0, `${copy} holds transfers`);
    assert.equal(balances, balancesAfter(n), `${copy}: the balances after ${n} transfers`);
    assert.equal(receipts, receiptsAfter(n), `${copy}: the receipts after ${n} transfers`);
    const report = await verify(copy);
    assert.ok(report.ok, `${copy}: ${JSON.stringify(report.problems)}`);
  }
});

test('tidemark export and schema of a directory a live database owns read a snapshot beside it, changing nothing there', async () => {
  const dir = dirs.make();
  const db = await open({ dir, tables: [ITEMS] });
  for (let id = 0; id < 50; id++) await db.table('items').insert({ id, v: `v${id}` });
  const names = readdirSync(dir).sort();
  const out = join(dirs.make(), 'items.ndjson');
  const exported = await cli('export', dir, 'items', '--out', out);
  assert.is(exported.status, 0, exported.err);
  assert.is(readFileSync(out, 'utf8').trim().split('\n').length, 50);
  const schema = await cli('schema', dir, 'items');
  assert.is(schema.status, 0, schema.err);
  assert.is(JSON.parse(schema.out).name, 'items');
  assert.equal(readdirSync(dir).sort(), names, "no file made or removed in the owner's directory");
  await db.table('items').insert({ id: 50, v: 'still writable' });
  await db.close();
});

test.after(() => dirs.cleanup());
test.run();
