/**
 * The test NATS cluster that the replication tests run on: three nats-server
 * nodes with JetStream keep an R3 file stream, acknowledge and give back what
 * is published to it, refuse clients without the right credentials, keep
 * acknowledging with one non-leader node SIGKILLed (which catches up once
 * restarted), and leave no process behind when stopped.
 */
import { jetstreamManager, jetstream, type JetStreamManager, StorageType } from '@nats-io/jetstream';
import { AuthorizationError, connect, type NatsConnection } from '@nats-io/transport-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type NatsCluster, natsOrSkip, startCluster } from './nats_cluster.js';

const STREAM = 'tm_cluster_test';
const SUBJECT = `${STREAM}.m`;
const MESSAGES = 100;
/** Generous: a restarted node catches up on a few hundred small messages in well under a second. */
const CATCH_UP_MS = 30_000;

const NAMES = {
  stream: 'an R3 file stream acknowledges 100 publishes and gives them back in order',
  auth: 'a client without credentials, or with a wrong password, is refused',
  failover: 'with a non-leader node SIGKILLed publishes are still acknowledged, and the node catches up on restart',
  stop: 'stop() ends every nats-server process',
};

let cluster: NatsCluster | null = null;
let nc: NatsConnection | null = null;

/** Registers `fn` as a test, or as a skipped one where nats-server is not installed. */
function natsTest(name: string, fn: (c: NatsCluster, conn: NatsConnection) => Promise<void>): void {
  if (!natsOrSkip(name)) return;
  test(name, async () => {
    cluster ??= await startCluster();
    nc ??= await connect({ ...cluster.connectOptions(), maxReconnectAttempts: -1 });
    await fn(cluster, nc);
  });
}

test.after(async () => {
  await nc?.close();
  await cluster?.stop();
});

/** Polls `check` until it is true; fails the test after `ms`. */
async function eventually(check: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.unreachable(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Publishes `count` messages numbered from `from`; each must be acknowledged with the next sequence. */
async function publishAcked(conn: NatsConnection, from: number, count: number): Promise<void> {
  const js = jetstream(conn);
  for (let i = from; i < from + count; i++) {
    const ack = await js.publish(SUBJECT, `message ${i}`);
    assert.is(ack.stream, STREAM);
    assert.is(ack.seq, i + 1, `message ${i} is stored at sequence ${i + 1}`);
    assert.not.ok(ack.duplicate);
  }
}

/** The error `connect` rejects with, or fails the test if it connects. */
async function refusal(options: Parameters<typeof connect>[0]): Promise<unknown> {
  try {
    const conn = await connect({ ...options, reconnect: false, timeout: 5_000 });
    await conn.close();
  } catch (error) {
    return error;
  }
  return assert.unreachable('the connection was accepted');
}

async function replicasOf(jsm: JetStreamManager): Promise<{ leader: string; peers: string[] }> {
  const info = await jsm.streams.info(STREAM);
  return { leader: info.cluster?.leader ?? '', peers: (info.cluster?.replicas ?? []).map((r) => r.name) };
}

natsTest(NAMES.stream, async (_, conn) => {
  const jsm = await jetstreamManager(conn);
  const info = await jsm.streams.add({
    name: STREAM,
    subjects: [`${STREAM}.>`],
    num_replicas: 3,
    storage: StorageType.File,
  });
  assert.is(info.config.num_replicas, 3);
  assert.is(info.config.storage, StorageType.File);
  await publishAcked(conn, 0, MESSAGES);

  const { leader, peers } = await replicasOf(jsm);
  assert.ok(leader !== '', 'the stream has a leader');
  assert.is(new Set([leader, ...peers]).size, 3, 'three distinct nodes hold the stream');

  const consumer = await jetstream(conn).consumers.get(STREAM);
  const messages = await consumer.fetch({ max_messages: MESSAGES, expires: 5_000 });
  const got: string[] = [];
  for await (const m of messages) {
    assert.is(m.seq, got.length + 1);
    got.push(m.string());
  }
  assert.equal(
    got,
    Array.from({ length: MESSAGES }, (_, i) => `message ${i}`),
  );
});

natsTest(NAMES.auth, async (c) => {
  const anonymous = await refusal({ servers: c.servers });
  assert.instance(anonymous, AuthorizationError, String(anonymous));
  const wrong = await refusal({ servers: c.servers, user: c.user, pass: `${c.pass}x` });
  assert.instance(wrong, AuthorizationError, String(wrong));
  const stranger = await refusal({ servers: c.servers, user: 'someone', pass: c.pass });
  assert.instance(stranger, AuthorizationError, String(stranger));
});

natsTest(NAMES.failover, async (c, conn) => {
  const jsm = await jetstreamManager(conn);
  const { leader } = await replicasOf(jsm);
  // The victim is neither the stream's leader nor the node this client is connected to,
  // so what is tested is the stream's quorum, not the client's reconnect.
  const victim = c.names.findIndex((name) => name !== leader && name !== conn.info?.server_name);
  assert.ok(victim >= 0, `a node other than the leader ${leader} and ${conn.info?.server_name}`);
  const victimName = c.names[victim]!;

  await c.kill(victim);
  await publishAcked(conn, MESSAGES, 10);
  assert.is((await jsm.streams.info(STREAM)).state.messages, MESSAGES + 10);

  await c.restart(victim);
  await publishAcked(conn, MESSAGES + 10, 10);
  await eventually(
    async () => {
      const info = await jsm.streams.info(STREAM);
      const peer = info.cluster?.replicas?.find((r) => r.name === victimName);
      return peer?.current === true && !peer.offline && (peer.lag ?? 0) === 0;
    },
    `the restarted ${victimName} is a current replica again; log: ${c.logTail(victim)}`,
    CATCH_UP_MS,
  );
  assert.is((await jsm.streams.info(STREAM)).state.messages, MESSAGES + 20);
});

natsTest(NAMES.stop, async (c, conn) => {
  await conn.close();
  nc = null;
  const pids = c.pids;
  assert.is(pids.length, 3);
  await c.stop();
  for (const pid of pids) {
    assert.throws(
      () => process.kill(pid, 0),
      (error: NodeJS.ErrnoException) => error.code === 'ESRCH',
      `pid ${pid} is gone`,
    );
  }
  cluster = null;
});

test.run();
