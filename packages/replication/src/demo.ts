/**
 * The replication demo (`pnpm run replication-demo`): three nats-server
 * nodes on loopback, a primary that ships its log to them, and two replicas
 * that bootstrap from the object store and follow. Needs nats-server
 * (packages/replication/scripts/setup-nats.sh installs Debian's package).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '@tidemark/core';
import { openReplica, replicate } from './index.js';
import { natsServerPath, startCluster } from './local_cluster.js';

if (natsServerPath() === null) {
  console.error('replication-demo: nats-server is not installed (bash packages/replication/scripts/setup-nats.sh)');
  process.exit(1);
}
const root = mkdtempSync(join(tmpdir(), 'tidemark-replication-demo-'));
const cluster = await startCluster({ nodes: 3 });
console.log(`NATS cluster: ${cluster.servers.join(' ')} (user ${cluster.user})`);
const nats = { ...cluster.connectOptions(), stream: 'orders' };
try {
  const db = await open({ dir: join(root, 'primary') });
  db.createTable({
    name: 'orders',
    columns: [
      { name: 'id', type: 'int32' },
      { name: 'item', type: 'string' },
    ],
    primaryKey: ['id'],
  });
  const replication = await replicate(db, nats);
  const replicas = [
    await openReplica({ ...nats, dir: join(root, 'replica-1') }),
    await openReplica({ ...nats, dir: join(root, 'replica-2') }),
  ];
  let token = 0;
  for (let id = 1; id <= 1000; id++) {
    // 'replicated': resolves once durable here and in the stream (a quorum of the three nodes).
    token = await db.table('orders').insert({ id, item: `item ${id}` }, { durability: 'replicated' });
  }
  for (const [i, replica] of replicas.entries()) {
    await replica.waitFor(token, { timeoutMs: 30_000 }); // read-your-writes on a replica
    const { appliedTs, appliedSeq, lagMs } = replica.stats();
    console.log(
      `replica ${i + 1}: ${replica.db.table('orders').size} orders, order 1000 = ${JSON.stringify(replica.db.table('orders').get(1000))}, applied commit ${appliedTs} (stream sequence ${appliedSeq}, lag ${lagMs.toFixed(1)} ms)`,
    );
  }
  const { shippedTs, streamSeq, checkpoint } = replication.stats();
  console.log(
    `primary: shipped up to commit ${shippedTs}, stream sequence ${streamSeq}; checkpoint at commit ${checkpoint?.commitTs}`,
  );
  for (const replica of replicas) await replica.close();
  await replication.close();
  await db.close();
} finally {
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
}
