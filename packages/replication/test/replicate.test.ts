/**
 * A primary and replicas on a 3-node NATS cluster (authorization on): a
 * replica bootstrapped from the object store plus the stream has the
 * primary's content at the same commitTs, under load and through schema
 * changes; `replicated` commits resolve with a token `waitFor` accepts; a
 * transaction larger than a message arrives whole; a replica closed and
 * reopened resumes with nothing missing or doubled; one whose stream
 * position was trimmed away bootstraps again; writes on a replica are
 * READ_ONLY; a client without credentials can neither append nor read.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type Database, ErrorCode, open } from '@tidemark/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contentHash, rejectsWith, tempDirs } from '../../core/test/helpers/dirs.js';
import { Registry } from 'prom-client';
import { openReplica, type Replica, replicate, type Replication } from '../src/index.js';
import { registerReplicationMetrics } from '../src/prometheus.js';
import { type NatsCluster, natsOrSkip, startCluster } from './nats_cluster.js';
import { KV } from '../../core/test/helpers/tables.js';

const dirs = tempDirs('tidemark-replicate-');

let cluster: NatsCluster | null = null;
const closers: Array<() => Promise<unknown>> = [];

test.after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await cluster?.stop();
  dirs.cleanup();
});

async function primaryOn(stream: string): Promise<{ db: Database; replication: Replication }> {
  cluster ??= await startCluster();
  const db = await open({ dir: dirs.make() });
  const replication = await replicate(db, { ...cluster.connectOptions(), stream, checkpointIntervalMs: 0 });
  closers.push(
    () => db.close(),
    () => replication.close(),
  );
  return { db, replication };
}

async function replicaOf(stream: string, dir = dirs.make()): Promise<Replica> {
  const replica = await openReplica({ ...cluster!.connectOptions(), stream, dir });
  closers.push(() => replica.close());
  return replica;
}

/** Random upserts and deletes over `keys` keys, `n` commits, `inFlight` at a time. */
async function load(db: Database, n: number, inFlight: number, keys = 500): Promise<number> {
  const kv = db.table('kv');
  let last = 0;
  let i = 0;
  const worker = async () => {
    while (i < n) {
      const j = i++;
      const k = (j * 7919) % keys;
      const ts = j % 5 === 4 && kv.get(k) !== undefined ? await kv.delete(k) : await kv.upsert({ k, v: `v${j}` });
      last = Math.max(last, ts);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return last;
}

function natsTest(name: string, fn: () => Promise<void>): void {
  if (natsOrSkip(name)) test(name, fn);
}

natsTest(
  'a replica bootstrapped from the object store has the primary content, through load and schema changes',
  async () => {
    const { db, replication } = await primaryOn('db_main');
    db.createTable(KV);
    await load(db, 500, 16);
    const first = await db.table('kv').upsert({ k: 1, v: 'replicated' }, { durability: 'replicated' });
    assert.ok(replication.stats().shippedTs >= first);
    await replication.checkpoint();
    const replica = await replicaOf('db_main');
    await replica.waitFor(first, { timeoutMs: 20_000 });
    assert.equal(replica.db.table('kv').get(1), { k: 1, v: 'replicated' });
    // Load and schema changes while the replica follows.
    const loading = load(db, 2_000, 64);
    await db.table('kv').addColumn({ name: 'n', type: 'int32', nullable: true });
    await db.table('kv').addIndex({ name: 'by_v', columns: ['v'], kind: 'hash' });
    await loading;
    db.createTable({ ...KV, name: 'other' });
    await db.table('other').insert({ k: 5, v: 'x' });
    await db.table('kv').dropColumn('n');
    const token = await db.table('other').insert({ k: 6, v: 'y' }, { durability: 'replicated' });
    await replica.waitFor(token, { timeoutMs: 20_000 });
    assert.is(replica.stats().appliedTs, token);
    assert.is(contentHash(replica.db), contentHash(db));
    assert.equal(replica.db.table('kv').find('by_v', 'v7'), db.table('kv').find('by_v', 'v7'));
    await rejectsWith(() => replica.db.table('kv').insert({ k: 10_001, v: 'no' }), ErrorCode.READ_ONLY, 'replica');
    // The figures as Prometheus metrics.
    const registry = new Registry();
    registerReplicationMetrics(replica, { registry, labels: { node: 'r1' } });
    registerReplicationMetrics(replication, { registry, labels: { node: 'p' } });
    const text = await registry.metrics();
    assert.ok(text.includes(`tidemark_replica_applied_ts{node="r1"} ${token}`), text);
    assert.ok(text.includes(`tidemark_replica_applied_seq{node="r1"} ${replica.stats().appliedSeq}`), text);
    assert.match(text, /tidemark_replica_lag_ms\{node="r1"\} [0-9.]+/);
    assert.ok(text.includes(`tidemark_replication_shipped_ts{node="p"} ${replication.stats().shippedTs}`), text);
  },
);

natsTest('a transaction larger than a message arrives whole', async () => {
  const { db } = await primaryOn('db_big');
  db.createTable(KV);
  const replica = await replicaOf('db_big');
  const big = 'x'.repeat(1000);
  const tx = db.begin({ durability: 'replicated' });
  for (let k = 0; k < 3000; k++) tx.upsert('kv', { k, v: `${k}${big}` });
  const token = await tx.commit();
  await replica.waitFor(token, { timeoutMs: 20_000 });
  assert.is(replica.db.table('kv').scan().length, 3000);
  assert.is(contentHash(replica.db), contentHash(db));
  assert.ok(replica.stats().groups >= 1);
});

natsTest('a replica closed and reopened resumes after what it applied, nothing missing or doubled', async () => {
  const { db } = await primaryOn('db_resume');
  db.createTable(KV);
  const dir = dirs.make();
  let replica = await replicaOf('db_resume', dir);
  let token = await load(db, 300, 8);
  token = await db.table('kv').upsert({ k: 0, v: 'a' }, { durability: 'replicated' });
  await replica.waitFor(token, { timeoutMs: 20_000 });
  await replica.close();
  await load(db, 300, 8);
  token = await db.table('kv').upsert({ k: 0, v: 'b' }, { durability: 'replicated' });
  replica = await replicaOf('db_resume', dir);
  assert.is(replica.stats().bootstraps, 0);
  await replica.waitFor(token, { timeoutMs: 20_000 });
  assert.is(contentHash(replica.db), contentHash(db));
});

natsTest('a replica whose stream position was trimmed away bootstraps again', async () => {
  const { db, replication } = await primaryOn('db_trim');
  db.createTable(KV);
  const dir = dirs.make();
  let replica = await replicaOf('db_trim', dir);
  let token = await db.table('kv').upsert({ k: 1, v: 'a' }, { durability: 'replicated' });
  await replica.waitFor(token, { timeoutMs: 20_000 });
  await replica.close();
  // Two checkpoints later (two kept), the stream holds nothing from before the first of them.
  await load(db, 200, 8);
  await replication.checkpoint();
  await load(db, 200, 8);
  token = await db.table('kv').upsert({ k: 2, v: 'b' }, { durability: 'replicated' });
  await replication.checkpoint();
  await replication.checkpoint();
  replica = await replicaOf('db_trim', dir);
  await replica.waitFor(token, { timeoutMs: 30_000 });
  assert.ok(replica.stats().bootstraps >= 1, `bootstraps ${replica.stats().bootstraps}`);
  assert.is(contentHash(replica.db), contentHash(db));
});

natsTest('a client without credentials can neither append to the stream nor read it', async () => {
  await primaryOn('db_auth');
  const servers = cluster!.servers;
  for (const credentials of [{}, { user: 'tidemark', pass: 'wrong' }]) {
    let refused: unknown = null;
    try {
      const nc = await connect({ servers, reconnect: false, ...credentials });
      await jetstream(nc).publish('db_auth.log', 'x');
      await nc.close();
    } catch (error) {
      refused = error;
    }
    assert.ok(refused !== null && /authoriz/i.test(String(refused)), `let in with ${JSON.stringify(credentials)}`);
  }
  const nc = await connect({ ...cluster!.connectOptions(), reconnect: false });
  const info = await (await jetstreamManager(nc)).streams.info('db_auth');
  assert.ok(info.state.messages >= 0);
  await nc.close();
});

test.run();
