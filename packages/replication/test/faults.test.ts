/**
 * Replication through node failures, and what the stream refuses. With
 * `replicated` commits in flight, a follower node and then the stream's
 * leader are SIGKILLed (and restarted): every commit acknowledged as
 * replicated is on both replicas afterwards, each applied once (a second
 * apply of an insert would be CORRUPT and stop the replica), and the
 * replicas' content equals the primary's. With no quorum, a `replicated`
 * commit fails with REPLICATION_UNAVAILABLE after its timeout while local
 * commits go on, and it ships once the cluster is back. A replica cut off
 * from the stream refuses reads with STALE past its maxStalenessMs. A
 * backlog past maxUnshippedBytes lets the WAL go. A second primary
 * of the same database (a copy of its directory) is fenced off, and puts
 * its commits past the stream in no checkpoint. A replica refuses a stream
 * of another database.
 */
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { type Database, ErrorCode, open, replicationPort } from '@tidemark/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contentHash, rejectsWith, tempDirs } from '../../core/test/helpers/dirs.js';
import { openReplica, type Replica, replicate, type Replication } from '../src/index.js';
import { retrying } from '../src/retry.js';
import { type NatsCluster, natsOrSkip, startCluster } from './nats_cluster.js';
import { KV } from '../../core/test/helpers/tables.js';

const dirs = tempDirs('tidemark-repl-faults-');
const STEP = process.env.TIDEMARK_LONG === '1' ? 1_000 : 200;

let cluster: NatsCluster | null = null;
const closers: Array<() => Promise<unknown>> = [];

test.after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await cluster?.stop();
  dirs.cleanup();
});

function natsTest(name: string, fn: () => Promise<void>): void {
  if (natsOrSkip(name)) test(name, fn);
}

async function primaryOn(
  stream: string,
  timeoutMs: number,
  more: { open?: Record<string, unknown>; replicate?: Record<string, unknown> } = {},
): Promise<{ db: Database; replication: Replication }> {
  cluster ??= await startCluster();
  const db = await open({ dir: dirs.make(), ...more.open });
  db.createTable(KV);
  const start = () =>
    replicate(db, {
      ...cluster!.connectOptions(),
      stream,
      checkpointIntervalMs: 0,
      replicationTimeoutMs: timeoutMs,
      ...more.replicate,
    });
  // Nodes restarted by the test before may still be catching up: making a stream can take a while then.
  const replication = await start().catch((error: { code?: string }) => {
    if (error.code !== ErrorCode.REPLICATION_UNAVAILABLE) throw error;
    return start();
  });
  closers.push(
    () => db.close(),
    () => replication.close(),
  );
  return { db, replication };
}

async function replicaOf(stream: string): Promise<Replica> {
  const replica = await openReplica({ ...cluster!.connectOptions(), stream, dir: dirs.make() });
  closers.push(() => replica.close());
  return replica;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.unreachable(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The index of the node that leads `stream`, and of one that follows. */
async function roles(stream: string): Promise<{ leader: number; follower: number }> {
  const nc = await connect({ ...cluster!.connectOptions() });
  try {
    // The cluster is busy with the load: its API may take a while to answer.
    const info = await retrying(
      async () => (await jetstreamManager(nc, { timeout: 20_000 })).streams.info(stream),
      60_000,
    );
    const leader = cluster!.names.indexOf(info.cluster?.leader ?? '');
    const follower = cluster!.names.indexOf(info.cluster?.replicas?.[0]?.name ?? '');
    assert.ok(leader >= 0 && follower >= 0 && leader !== follower, JSON.stringify(info.cluster));
    return { leader, follower };
  } finally {
    await nc.close();
  }
}

/** Kills a follower node, then the stream's leader, each while `acked` grows by STEP, restarting each. */
async function killDuringLoad(acked: number[]): Promise<void> {
  await until(() => acked.length >= STEP, `${STEP} acknowledged`);
  const follower = (await roles('faults')).follower;
  await cluster!.kill(follower);
  let mark = acked.length;
  await until(() => acked.length >= mark + STEP, 'commits acknowledged with a follower down');
  await cluster!.restart(follower);
  const leader = (await roles('faults')).leader;
  await cluster!.kill(leader);
  mark = acked.length;
  await until(() => acked.length >= mark + STEP, 'commits acknowledged after the leader was killed', 120_000);
  await cluster!.restart(leader);
}

natsTest(
  'a follower and the stream leader SIGKILLed: every replicated commit acknowledged is on both replicas, once',
  async () => {
    const { db, replication } = await primaryOn('faults', 60_000);
    const replicas = [await replicaOf('faults'), await replicaOf('faults')];
    const acked: number[] = [];
    let token = 0;
    let next = 0;
    let stop = false;
    const failures: unknown[] = [];
    const writer = async () => {
      while (!stop) {
        const k = next++;
        try {
          token = Math.max(token, await db.table('kv').insert({ k, v: `v${k}` }, { durability: 'replicated' }));
          acked.push(k);
        } catch (error) {
          failures.push(error);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    try {
      await killDuringLoad(acked);
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    const first = failures.slice(0, 3).map((e) => (e as Error).message);
    assert.is(
      failures.length,
      0,
      `replicated commits failed within their 60 s: ${first.join('; ')}; ${JSON.stringify(replication.stats())}`,
    );
    for (const replica of replicas) {
      await replica.waitFor(token, { timeoutMs: 60_000 });
      const kv = replica.db.table('kv');
      for (const k of acked) assert.ok(kv.get(k) !== undefined, `acknowledged key ${k} is missing`);
      assert.is(replica.stats().state, 'following');
      assert.is(contentHash(replica.db), contentHash(db));
    }
  },
);

natsTest(
  'without a quorum a replicated commit fails after its timeout, local commits go on, and it ships later',
  async () => {
    const { db, replication } = await primaryOn('no_quorum', 1_500);
    const replica = await replicaOf('no_quorum');
    const first = await db.table('kv').insert({ k: 1, v: 'a' }, { durability: 'replicated' });
    await replica.waitFor(first, { timeoutMs: 20_000 });
    await cluster!.kill(1);
    await cluster!.kill(2);
    const error = await rejectsWith(
      () => db.table('kv').insert({ k: 2, v: 'b' }, { durability: 'replicated' }),
      ErrorCode.REPLICATION_UNAVAILABLE,
      'replicas may or may not have it',
    );
    assert.ok(error);
    // Local commits go on, and the failed one is applied here.
    const local = await db.table('kv').insert({ k: 3, v: 'c' });
    assert.equal(db.table('kv').get(2), { k: 2, v: 'b' });
    assert.ok(replication.stats().shippedTs < local);
    await cluster!.restart(1);
    await cluster!.restart(2);
    await replica.waitFor(local, { timeoutMs: 60_000 });
    assert.equal(replica.db.table('kv').get(2), { k: 2, v: 'b' });
    assert.is(contentHash(replica.db), contentHash(db));
  },
);

natsTest(
  'a backlog past maxUnshippedBytes lets the WAL go, and the replica still catches up with everything',
  async () => {
    const MiB = 1024 * 1024;
    const { db, replication } = await primaryOn('backlog', 1_500, {
      open: { walSegmentBytes: 256 * 1024, checkpointWalBytes: 512 * 1024, checkpointIntervalMs: 0 },
      replicate: { maxUnshippedBytes: MiB },
    });
    const replica = await replicaOf('backlog');
    const first = await db.table('kv').insert({ k: 0, v: 'a' }, { durability: 'replicated' });
    await replica.waitFor(first, { timeoutMs: 20_000 });
    await cluster!.kill(1);
    await cluster!.kill(2);
    let last = 0;
    try {
      // About 3 MiB of durable commits the stream cannot take.
      const big = 'x'.repeat(1024);
      for (let k = 1; k <= 3 * 1024; k++) await db.table('kv').insert({ k, v: big });
      await until(() => replication.stats().backlogReleases > 0, 'the backlog let go past 1 MiB', 30_000);
      await until(() => replication.stats().unshippedBytes <= MiB, 'the backlog back under 1 MiB', 30_000);
      // Local checkpoints let the segments go: the cursor no longer keeps them for the stream.
      await db.checkpoint();
      for (let k = 3 * 1024 + 1; k <= 4 * 1024; k++) await db.table('kv').insert({ k, v: big });
      await db.checkpoint();
      // About 4.5 MiB were logged; the WAL on disk holds what the checkpoint and the bounded backlog need.
      const wal = readdirSync(db.dir!).filter((f) => f.startsWith('wal-'));
      const walBytes = wal.reduce((sum, f) => sum + statSync(join(db.dir!, f)).size, 0);
      assert.ok(walBytes <= 2.5 * MiB, `${walBytes} bytes of WAL kept: ${wal.join(' ')}`);
      last = await db.table('kv').insert({ k: 5000, v: 'last' });
    } finally {
      await cluster!.restart(1);
      await cluster!.restart(2);
    }
    await replica.waitFor(last, { timeoutMs: 90_000 }).catch((error: Error) => {
      assert.unreachable(`${error.message}: ${JSON.stringify(replication.stats())} ${JSON.stringify(replica.stats())}`);
    });
    assert.is(contentHash(replica.db), contentHash(db));
    await until(
      () => replication.stats().unshippedBytes === 0,
      `nothing left to ship: ${JSON.stringify(replication.stats())}, durableTs ${replicationPort(db).durableTs}`,
    );
  },
);

natsTest(
  'a replica cut off from the stream refuses reads with STALE past maxStalenessMs, and serves again once back',
  async () => {
    const { db } = await primaryOn('stale', 5_000);
    const replica = await openReplica({
      ...cluster!.connectOptions(),
      stream: 'stale',
      dir: dirs.make(),
      maxStalenessMs: 1_000,
    });
    closers.push(() => replica.close());
    const token = await db.table('kv').insert({ k: 1, v: 'a' }, { durability: 'replicated' });
    await replica.waitFor(token, { timeoutMs: 20_000 });
    const read = () =>
      (async () => replica.db.table('kv').get(1))().then(
        (row) => (row === undefined ? 'missing' : 'read'),
        (error: { code?: string }) => String(error.code),
      );
    await until(async () => (await read()) === 'read', 'a fresh replica serves reads');
    await cluster!.kill(1);
    await cluster!.kill(2);
    try {
      await until(async () => (await read()) === ErrorCode.STALE, 'reads refused as stale', 30_000);
      await rejectsWith(async () => replica.db.transaction((tx) => tx.get('kv', 1)), ErrorCode.STALE);
    } finally {
      await cluster!.restart(1);
      await cluster!.restart(2);
    }
    await until(async () => (await read()) === 'read', 'reads served again', 60_000);
    await rejectsWith(
      async () => openReplica({ ...cluster!.connectOptions(), stream: 'stale', dir: dirs.make(), maxStalenessMs: 0 }),
      ErrorCode.INVALID_OPTION,
    );
  },
);

natsTest('a second primary of the same database is fenced off; a replica refuses another database', async () => {
  const { db, replication } = await primaryOn('fence', 5_000);
  await db.table('kv').insert({ k: 1, v: 'a' }, { durability: 'replicated' });
  await db.close();
  await replication.close();
  // A copy of the primary's directory goes on as a second primary; the first comes back and commits.
  const copyDir = join(dirs.make(), 'copy');
  const firstDir = db.dir!;
  cpSync(firstDir, copyDir, { recursive: true });
  const second = await open({ dir: copyDir });
  const secondRepl = await replicate(second, {
    ...cluster!.connectOptions(),
    stream: 'fence',
    checkpointIntervalMs: 0,
  });
  closers.push(
    () => second.close(),
    () => secondRepl.close(),
  );
  await second.table('kv').insert({ k: 2, v: 'second' }, { durability: 'replicated' });
  const first = await open({ dir: firstDir });
  closers.push(() => first.close());
  await first.table('kv').insert({ k: 3, v: 'first' });
  await first.table('kv').insert({ k: 4, v: 'first' });
  const firstRepl = await replicate(first, { ...cluster!.connectOptions(), stream: 'fence', checkpointIntervalMs: 0 });
  closers.push(() => firstRepl.close());
  await rejectsWith(
    () => first.table('kv').insert({ k: 5, v: 'first' }, { durability: 'replicated' }),
    ErrorCode.REPLICATION_FENCED,
  );
  assert.is(firstRepl.stats().state, 'fenced');
  // Its commits past the stream go into no checkpoint: a replica bootstrapping from it would hold them.
  await rejectsWith(() => firstRepl.checkpoint(), ErrorCode.REPLICATION_FENCED);
  // A replica bootstrapped from another database's stream refuses this one's messages.
  const { db: other } = await primaryOn('other_db', 5_000);
  await other.table('kv').insert({ k: 1, v: 'other' }, { durability: 'replicated' });
  const replica = await replicaOf('other_db');
  await replica.close();
  const wrong = await openReplica({ ...cluster!.connectOptions(), stream: 'fence', dir: replica.db.dir! });
  closers.push(() => wrong.close());
  await until(() => wrong.stats().state === 'failed', 'the replica refuses the other database', 30_000);
  assert.match(wrong.stats().lastError ?? '', /comes from database/);
});

test.run();
