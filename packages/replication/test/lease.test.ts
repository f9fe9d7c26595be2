/**
 * The lease that decides which node may try to write a stream: taken and
 * renewed by compare-and-set in a JetStream key-value bucket, expiring after
 * leaseMs without a renewal as each node measures it. While the holder
 * renews, no other node gets it; once renewals stop, another node gets it
 * with the next epoch, only after leaseMs, and the old holder's own time is
 * up by then. Of two nodes taking it from the same state, one wins.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Lease } from '../src/lease.js';
import { type NatsCluster, natsOrSkip, startCluster } from './nats_cluster.js';

let cluster: NatsCluster | null = null;
const connections: NatsConnection[] = [];

test.after(async () => {
  for (const nc of connections) await nc.close().catch(() => {});
  await cluster?.stop();
});

async function leaseOf(stream: string, node: string, leaseMs: number): Promise<Lease> {
  cluster ??= await startCluster();
  const nc = await connect(cluster.connectOptions());
  connections.push(nc);
  return Lease.open(nc, stream, node, leaseMs);
}

const LEASE_MS = 1_500;

if (natsOrSkip('lease')) {
  test('a held lease is renewed and refused to others; unrenewed, it goes to another node with the next epoch after leaseMs', async () => {
    const a = await leaseOf('lease1', 'a', LEASE_MS);
    const b = await leaseOf('lease1', 'b', LEASE_MS);
    assert.equal(await a.acquire(), { node: 'a', epoch: 1 });
    assert.equal(a.held, { node: 'a', epoch: 1 });
    // Renewed for three leases' time: b never gets it.
    const until = performance.now() + 3 * LEASE_MS;
    let renewed = 0;
    while (performance.now() < until) {
      assert.ok(await a.renew(), 'the holder renews');
      renewed = performance.now();
      assert.is(await b.acquire(), null, 'another node is refused a renewed lease');
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 5));
    }
    // Renewals stop: b takes it only once leaseMs has passed since it saw the last renewal.
    let taken = await b.acquire();
    while (taken === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      taken = await b.acquire();
    }
    const waited = performance.now() - renewed;
    assert.equal(taken, { node: 'b', epoch: 2 });
    assert.ok(waited >= LEASE_MS, `taken ${waited.toFixed(0)} ms after the last renewal`);
    assert.is(a.held, null, "the old holder's time is up before another node takes the lease");
    assert.is(await a.renew(), false);
    assert.equal(a.holder, { node: 'b', epoch: 2 });
    // A release frees it at once, and the epoch goes on.
    await b.release();
    assert.is(b.held, null);
    assert.equal(await a.acquire(), { node: 'a', epoch: 3 });
  });

  test('of nodes taking the lease from the same state, exactly one wins; a forced take bumps the epoch', async () => {
    const nodes: Lease[] = [];
    for (const n of ['x', 'y', 'z']) nodes.push(await leaseOf('race', n, LEASE_MS));
    for (let round = 0; round < 10; round++) {
      await Promise.all(nodes.map((n) => n.read()));
      const won = (await Promise.all(nodes.map((n) => n.acquire()))).filter((h) => h !== null);
      assert.is(won.length, 1, `round ${round}: ${JSON.stringify(won)}`);
      const epoch = won[0]!.epoch;
      const winner = nodes.find((n) => n.held !== null)!;
      const loser = nodes.find((n) => n.held === null)!;
      assert.equal(await loser.acquire(true), { node: loser.node, epoch: epoch + 1 });
      assert.is(await winner.renew(), false, 'the holder taken over by force cannot renew');
      await loser.release();
    }
  });
}

test.run();
