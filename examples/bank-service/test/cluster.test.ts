/**
 * The example service as a cluster (three local NATS nodes, two service
 * nodes): writes go to the primary and answer once replicated; the other
 * node answers a write with 503 NOT_PRIMARY naming the primary, and serves
 * reads; after promote() the roles swap, the clients learn the new primary
 * from /primary and from the 503s, and every answered transfer is there.
 */
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Member } from '@tidemark/replication';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type NatsCluster, natsOrSkip, startCluster } from '../../../packages/replication/test/nats_cluster.js';
import { joinBankCluster } from '../src/cluster.js';
import { createBankServer } from '../src/server.js';

const base = mkdtempSync(join(tmpdir(), 'tidemark-bank-cluster-'));
let cluster: NatsCluster | null = null;
const closers: Array<() => Promise<unknown>> = [];

test.after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await cluster?.stop();
  rmSync(base, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: the service's JSON replies, read field by field by the assertions
type Call = (method: string, path: string, json?: unknown) => Promise<{ status: number; body: any }>;

async function serviceNode(node: string): Promise<{ member: Member; call: Call }> {
  cluster ??= await startCluster();
  const { servers, user, pass } = cluster.connectOptions();
  const member = await joinBankCluster({ dir: join(base, node), servers, stream: 'bank', node, user, pass });
  const { server } = createBankServer(member);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () => member.close(),
    () => new Promise((resolve) => server.close(resolve)),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call: Call = async (method, path, json) => {
    const res = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: json === undefined ? null : JSON.stringify(json),
    });
    return { status: res.status, body: await res.json() };
  };
  return { member, call };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.unreachable(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

if (natsOrSkip('bank cluster')) {
  test('writes go to the primary; the other node names it; after promote() the roles swap and nothing is lost', async () => {
    const a = await serviceNode('a');
    assert.is(a.member.role, 'primary');
    const b = await serviceNode('b');
    assert.is(b.member.role, 'replica');
    assert.is((await a.call('POST', '/accounts', { id: 'alice', owner: 'Alice', balance: '1000' })).status, 201);
    assert.is((await a.call('POST', '/accounts', { id: 'bob', owner: 'Bob', balance: '0' })).status, 201);
    const t1 = await a.call('POST', '/transfers', { from: 'alice', to: 'bob', amount: '100' });
    assert.is(t1.status, 201);
    const refused = await b.call('POST', '/transfers', { from: 'alice', to: 'bob', amount: '1' });
    assert.equal([refused.status, refused.body.code, refused.body.primary.node], [503, 'NOT_PRIMARY', 'a']);
    assert.equal((await b.call('GET', '/primary')).body, { role: 'replica', primary: { node: 'a', epoch: 1 } });
    // The answer came once replicated: the other node has it as soon as it applies the stream.
    await until(async () => (await b.call('GET', '/accounts/bob')).body.balance === '100', 'b reads the transfer');
    await b.member.promote();
    assert.equal((await b.call('GET', '/primary')).body, { role: 'primary', primary: { node: 'b', epoch: 2 } });
    const t2 = await b.call('POST', '/transfers', { from: 'alice', to: 'bob', amount: '200' });
    assert.is(t2.status, 201);
    assert.ok(BigInt(t2.body.id) > BigInt(t1.body.id), "transfer ids go on after the old primary's");
    const stale = await a.call('POST', '/transfers', { from: 'alice', to: 'bob', amount: '1' });
    assert.is(stale.status, 503);
    assert.equal((await b.call('GET', '/accounts/alice')).body.balance, '700');
    assert.equal((await b.call('GET', '/accounts/bob')).body.balance, '300');
  });
}

test.run();
