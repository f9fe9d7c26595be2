/**
 * Every peer adapter at every setting passes checkPeer (it really stores
 * and reads back rows, across a reopen) in a temporary folder the test
 * removes. A peer that cannot run here is reported as skipped with its
 * reason, never dropped. Also: checkPeer itself catches broken adapters,
 * and no redis-server outlives its peer.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPeer, PEERS, type Account, type Peer, type PeerFactory } from '../src/peers/index.js';
import { runningRedisServers } from '../src/peers/redis_server.js';

const ROWS = 3_000;

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-peer-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const factory of PEERS) {
  const reason = await factory.available();
  for (const setting of factory.settings) {
    const name = `${factory.name} (${setting}) stores and reads back every row`;
    if (reason !== null) {
      console.log(`  skipped: ${factory.name} (${setting}): ${reason}`);
      test.skip(name, () => {});
      continue;
    }
    test(name, async () => {
      const report = await inTempDir((dir) => checkPeer(factory, setting, dir, { rows: ROWS }));
      assert.is(report.rows, ROWS);
      const durable = report.durable ? 'durable' : 'not durable';
      console.log(
        `  ${factory.name} (${setting}, ${durable}): ${report.puts} puts, ${report.batches} batches, ${report.overwrites} overwrites, ${report.elapsedMs.toFixed(0)} ms`,
      );
    });
  }
}

test('no redis-server is left running', () => {
  assert.is(runningRedisServers(), 0);
});

test('every factory names its peers and refuses an unknown setting', () => {
  const names = PEERS.map((f) => f.name);
  assert.equal(names, ['tidemark', 'better-sqlite3', 'lmdb', 'redis', 'map-json']);
  for (const factory of PEERS) {
    assert.ok(factory.settings.length >= 2, `${factory.name}: a fast and a durable setting`);
    assert.throws(() => factory.create('no such setting'), /unknown setting/);
    const durable = factory.settings.map((s) => factory.create(s).durable);
    assert.ok(durable.includes(true) && durable.includes(false), `${factory.name}: one durable and one not`);
  }
});

/** An in-memory peer with a fault: `drop` loses some puts, `forget` loses everything at close. */
function faulty(fault: 'drop' | 'forget' | 'stale'): PeerFactory {
  let kept = new Map<number, Account>();
  const peer = (): Peer => ({
    name: 'faulty',
    setting: fault,
    durable: false,
    snapshotOnly: false,
    guarantee: 'none',
    open: async () => {},
    put: async (row) => {
      if (fault === 'drop' && row.id % 100 === 0) return;
      if (fault === 'stale' && kept.has(row.id)) return;
      kept.set(row.id, { ...row });
    },
    putBatch: async (rows) => {
      for (const row of rows) kept.set(row.id, { ...row });
    },
    get: (id) => kept.get(id),
    count: () => kept.size,
    close: async () => {
      if (fault === 'forget') kept = new Map();
    },
  });
  return { name: 'faulty', settings: [fault], loadsAtOpen: true, available: async () => null, create: peer };
}

test('checkPeer catches an adapter that drops, forgets or ignores writes', async () => {
  for (const fault of ['drop', 'forget', 'stale'] as const) {
    await inTempDir(async (dir) => {
      try {
        await checkPeer(faulty(fault), fault, dir, { rows: 500 });
        assert.unreachable(`the '${fault}' adapter passed`);
      } catch (error) {
        assert.not.instance(error, assert.Assertion);
        assert.match((error as Error).message, 'peer faulty');
      }
    });
  }
});

test('the temporary folders are gone', () => {
  const left = readdirSync(tmpdir()).filter((n) => n.startsWith('tidemark-peer-'));
  assert.equal(left, []);
});

test.run();
