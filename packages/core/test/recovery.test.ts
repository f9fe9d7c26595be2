/**
 * Parallel recovery: the number of recovery workers never changes what a
 * directory recovers to (content hash, secondary indexes, equal to a model),
 * progress is reported per phase, and a damaged or missing pair file fails
 * the open with CORRUPT naming the file, leaving no worker thread, no lock
 * and no half-open database behind.
 */
import { cpSync, readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import diagnostics_channel from 'node:diagnostics_channel';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ErrorCode,
  open,
  RECOVERY_CHANNEL,
  type OpenOptions,
  type RecoveryProgress,
  type Row,
  type TableDef,
} from '../src/index.js';
import { dataFileName, holdsRows } from '../src/checkpoint/cfp_format.js';
import { readNewestRoot } from '../src/checkpoint/root_format.js';
import { NodeFileLayer } from '../src/files/file_layer.js';
import { INLINE_RECOVERY_BYTES, recoveryWorkers } from '../src/recovery/load_checkpoint.js';
import { contentHash, crashImage, rejectsWith, tempDirs } from './helpers/dirs.js';

const accounts: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'owner', type: 'string' },
    { name: 'balance', type: 'float64' },
  ],
  primaryKey: ['id'],
  indexes: [
    { name: 'byOwner', columns: ['owner'] },
    { name: 'byBalance', columns: ['balance'], kind: 'ordered' },
  ],
};
const notes: TableDef = {
  name: 'notes',
  columns: [
    { name: 'key', type: 'string' },
    { name: 'body', type: 'string' },
  ],
  primaryKey: ['key'],
};
const KiB = 1024;
/** Small pairs so a short workload spans dozens of them; triggers large enough that only the test checkpoints. */
// Merges off: crash images are copied while the workers run, which is a real crash state only if no root is written meanwhile (merge.test.ts covers merges).
const small: OpenOptions = {
  tables: [accounts, notes],
  dataFileSizeBytes: 64 * KiB,
  walSegmentBytes: 256 * KiB,
  checkpointWalBytes: 64 * 1024 * KiB,
  checkpointIntervalMs: 0,
  merges: false,
};

const dirs = tempDirs('tidemark-recovery-');
test.after(dirs.cleanup);

/** mulberry32 */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Model {
  accounts: Map<number, Row>;
  notes: Map<string, Row>;
}

/** Random inserts, updates and deletes over both tables, in transactions of 1–8 writes; checkpoints every `checkpointEvery` transactions. */
async function workload(
  db: Awaited<ReturnType<typeof open>>,
  model: Model,
  random: () => number,
  txns: number,
  checkpointEvery: number,
): Promise<void> {
  for (let t = 0; t < txns; t++) {
    db.transactionSync(
      (tx) => {
        const writes = 1 + Math.floor(random() * 8);
        for (let w = 0; w < writes; w++) {
          const r = random();
          if (r < 0.6) {
            const id = Math.floor(random() * 1500);
            const row = { id, owner: `owner-${Math.floor(random() * 40)}`, balance: Math.round(random() * 1e6) / 100 };
            tx.upsert('accounts', row);
            model.accounts.set(id, row);
          } else if (r < 0.8) {
            const id = Math.floor(random() * 1500);
            if (model.accounts.has(id)) {
              tx.delete('accounts', id);
              model.accounts.delete(id);
            }
          } else if (r < 0.95) {
            const key = `k${Math.floor(random() * 400)}`;
            const row = { key, body: 'b'.repeat(Math.floor(random() * 1200)) };
            tx.upsert('notes', row);
            model.notes.set(key, row);
          } else {
            const key = `k${Math.floor(random() * 400)}`;
            if (model.notes.has(key)) {
              tx.delete('notes', key);
              model.notes.delete(key);
            }
          }
        }
      },
      { durability: 'delayed' },
    );
    if ((t + 1) % checkpointEvery === 0) await db.checkpoint();
  }
}

async function modelHash(model: Model): Promise<string> {
  const db = await open({ tables: [accounts, notes] });
  for (const row of model.accounts.values()) void db.table('accounts').insert(row, { durability: 'delayed' });
  for (const row of model.notes.values()) void db.table('notes').insert(row, { durability: 'delayed' });
  const hash = contentHash(db);
  await db.close();
  return hash;
}

/** A crash image (checkpoints, then a WAL tail) of a random workload, and its model. */
async function image(seed: number): Promise<{ dir: string; model: Model }> {
  const random = prng(seed);
  const model: Model = { accounts: new Map(), notes: new Map() };
  const db = await open({ dir: dirs.make(), ...small });
  await workload(db, model, random, 1500, 150);
  const dir = await crashImage(db, dirs.make(), () => workload(db, model, random, 100, Infinity));
  return { dir, model };
}

function copyOf(dir: string): string {
  const copy = dirs.make();
  cpSync(dir, copy, { recursive: true });
  return copy;
}

test('equivalence: 0, 1, 2 and 8 workers recover the same contents, equal to the model, indexes included', async () => {
  for (const seed of [1, 2, 3]) {
    const { dir, model } = await image(seed);
    const expected = await modelHash(model);
    for (const workers of [0, 1, 2, 8]) {
      const db = await open({ dir: copyOf(dir), ...small, recoveryWorkers: workers });
      try {
        const load = db.recovery!.checkpoint!;
        assert.ok(load.cfps >= 10, `seed ${seed}: ${load.cfps} pairs`);
        assert.is(load.workers, Math.min(workers, load.cfps));
        // With fewer workers than pairs, the main thread loads some pairs itself between linking.
        if (workers === 0) assert.is(load.mainCfps, load.cfps);
        else if (workers < load.cfps)
          assert.ok(
            load.mainCfps >= 1 && load.mainCfps <= load.cfps - workers,
            `${load.mainCfps} pairs on the main thread`,
          );
        assert.ok(load.skipped > 0, 'deletes into older pairs were filtered out');
        assert.ok(db.recovery!.records > 0, 'a WAL tail was replayed after the checkpoint');
        assert.is(contentHash(db), expected, `seed ${seed}, ${workers} workers`);
        assert.is(db.stats().tables.find((t) => t.name === 'accounts')!.rows, model.accounts.size);
        const owners = new Map<string, number[]>();
        for (const row of model.accounts.values())
          owners.set(row.owner as string, [...(owners.get(row.owner as string) ?? []), row.id as number]);
        for (const [owner, ids] of owners) {
          const found = db
            .table('accounts')
            .find('byOwner', owner)
            .map((r) => r.id as number);
          assert.equal(
            found.sort((a, b) => a - b),
            ids.sort((a, b) => a - b),
            `byOwner ${owner}`,
          );
        }
        const byBalance = db
          .table('accounts')
          .scan({ index: 'byBalance' })
          .map((r) => r.balance as number);
        assert.equal(
          byBalance,
          [...model.accounts.values()].map((r) => r.balance as number).sort((a, b) => a - b),
        );
      } finally {
        await db.close();
      }
    }
  }
});

test('progress: each phase is reported to onProgress and on the diagnostics channel, bytes adding up to the pairs', async () => {
  const { dir } = await image(7);
  const seen: RecoveryProgress[] = [];
  const published: RecoveryProgress[] = [];
  const onMessage = (message: unknown): void => void published.push(message as RecoveryProgress);
  diagnostics_channel.subscribe(RECOVERY_CHANNEL, onMessage);
  try {
    const db = await open({ dir, ...small, recoveryWorkers: 2, onProgress: (p) => seen.push(p) });
    const load = db.recovery!.checkpoint!;
    await db.close();
    assert.equal([...new Set(seen.map((p) => p.phase))], ['checkpoint', 'indexes', 'wal', 'done']);
    assert.equal(
      published.map((p) => p.phase),
      seen.map((p) => p.phase),
    );
    const lastLoad = seen.filter((p) => p.phase === 'checkpoint').at(-1)!;
    assert.is(lastLoad.cfps.length, load.cfps);
    assert.ok(lastLoad.cfps.every((c) => c.done && c.bytes === c.totalBytes));
    assert.is(lastLoad.rows, load.rows);
    assert.is(lastLoad.bytes, lastLoad.totalBytes);
    assert.is(lastLoad.workers, 2);
    const byPhase = seen.filter((p) => p.phase === 'checkpoint').map((p) => p.bytes);
    assert.equal(
      byPhase,
      [...byPhase].sort((a, b) => a - b),
      'bytes never go back',
    );
    assert.is(seen.at(-1)!.rows, db.recovery!.records);
  } finally {
    diagnostics_channel.unsubscribe(RECOVERY_CHANNEL, onMessage);
  }
});

/** Threads of this process (the main thread, libuv's and V8's, and any worker threads). */
function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

test('failure paths: every pair file damaged or missing fails the open with CORRUPT naming it; nothing is left running', async () => {
  const { dir } = await image(11);
  const files = readdirSync(dir);
  const data = files.filter((f) => f.startsWith('data-')).sort();
  const delta = files.filter((f) => f.startsWith('delta-')).sort();
  // Pairs in the middle of the list, so other tasks are running when one fails.
  const damaged = data[Math.floor(data.length / 2)]!;
  const deltaWithRows = delta.filter((f) => readFileSync(join(dir, f)).length > 64);
  const damagedDelta = deltaWithRows[Math.floor(deltaWithRows.length / 2)]!;
  const cases: Array<{ what: string; file: string; change: (path: string) => void; mentions: string }> = [
    {
      what: 'a bit flipped in a data block',
      file: damaged,
      change: (p) => flip(p, 64 + 200),
      mentions: 'data file block fails its checks',
    },
    { what: 'a data file header damaged', file: damaged, change: (p) => flip(p, 3), mentions: damaged },
    {
      what: 'a data file cut short',
      file: damaged,
      change: (p) => truncateSync(p, 1000),
      mentions: 'shorter than its valid length',
    },
    { what: 'a data file missing', file: damaged, change: unlinkSync, mentions: 'missing' },
    {
      what: 'a bit flipped in a delta block',
      file: damagedDelta,
      change: (p) => flip(p, 64 + 40),
      mentions: 'delta file block fails its checks',
    },
    {
      what: 'a delta file cut short (tombstones lost)',
      file: damagedDelta,
      change: (p) => truncateSync(p, 64),
      mentions: 'shorter than its valid length',
    },
    { what: 'a delta file missing', file: damagedDelta, change: unlinkSync, mentions: 'missing' },
  ];
  // The pair the main thread takes first when workers load the rest: the one with the least data.
  const smallestPair = readNewestRoot(new NodeFileLayer(), dir)
    .root!.cfps.filter((c) => holdsRows(c.state))
    .reduce((a, b) => (b.dataLength < a.dataLength ? b : a));
  const smallest = dataFileName(smallestPair.id);
  assert.is.not(smallest, damaged);
  assert.ok(smallestPair.dataLength > 64 + 40, `the smallest data file holds ${smallestPair.dataLength} bytes`);
  cases.push({
    what: 'a bit flipped in the pair the main thread loads itself',
    file: smallest,
    change: (p) => flip(p, 64 + 40),
    mentions: 'data file block fails its checks',
  });
  for (const c of cases) {
    for (const workers of [0, 2]) {
      const copy = copyOf(dir);
      c.change(join(copy, c.file));
      // Counted right before the opens: any thread they start must have ended when they reject.
      const before = threadCount();
      await rejectsWith(() => open({ dir: copy, ...small, recoveryWorkers: workers }), ErrorCode.CORRUPT, c.file);
      await rejectsWith(() => open({ dir: copy, ...small, recoveryWorkers: workers }), ErrorCode.CORRUPT, c.mentions);
      // At once: a failed open rejects only after its threads have ended (it left 1 to 4 behind for a while when it did not wait).
      assert.ok(threadCount() <= before, `${c.what}, ${workers} workers: ${threadCount()} threads, ${before} before`);
    }
  }
  // The process is healthy and the undamaged directory still opens (its LOCK was never left held).
  const db = await open({ dir, ...small, recoveryWorkers: 2 });
  assert.ok(db.recovery!.checkpoint!.rows > 0);
  await db.close();
});

test("the default recovery workers: the cores but the main thread's, none on one core or for a small checkpoint; an option wins", () => {
  const big = INLINE_RECOVERY_BYTES;
  assert.is(recoveryWorkers(null, big, 2), 1);
  assert.is(recoveryWorkers(null, big, 16), 15);
  assert.is(recoveryWorkers(null, big, 1), 0);
  assert.is(recoveryWorkers(null, big - 1, 16), 0);
  assert.is(recoveryWorkers(3, 0, 1), 3);
  assert.is(recoveryWorkers(0, big, 16), 0);
});

test('options.recoveryWorkers and options.onProgress are validated', async () => {
  await rejectsWith(
    () => open({ dir: dirs.make(), recoveryWorkers: -1 }),
    ErrorCode.INVALID_OPTION,
    'options.recoveryWorkers',
  );
  await rejectsWith(
    () => open({ dir: dirs.make(), recoveryWorkers: 1.5 }),
    ErrorCode.INVALID_OPTION,
    'options.recoveryWorkers',
  );
  await rejectsWith(
    () => open({ dir: dirs.make(), recoveryWorkers: 65 }),
    ErrorCode.INVALID_OPTION,
    'options.recoveryWorkers',
  );
  await rejectsWith(
    () => open({ dir: dirs.make(), onProgress: 'yes' as never }),
    ErrorCode.INVALID_OPTION,
    'options.onProgress',
  );
});

function flip(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset]! ^= 0x10;
  writeFileSync(path, bytes);
}

test.run();
