/**
 * Failover on three local NATS nodes. By hand: `promote()` on a replica
 * takes the lease with the next epoch and opens its term in the stream; the
 * old primary can no longer acknowledge, turns read-only, and joins again
 * as a replica; every commit acknowledged before is on every node, and the
 * replicas converge to the new primary. Automatically: a primary process
 * SIGKILLed while it writes is replaced by a replica once the lease lapses,
 * with every commit it acknowledged kept. A primary paused past its lease
 * (SIGSTOP) is replaced the same way; resumed, whatever it acknowledged is
 * on the new primary, its other commits fail with REPLICATION_FENCED (never
 * in the stream) or REPLICATION_UNAVAILABLE (sent, no answer), and it joins
 * again as a replica. A primary cut off from every NATS node (a TCP proxy
 * in front of each, cut) steps down once its lease lapses, and a replica
 * takes over; one cut off with local commits past the stream never answers
 * `waitFor` from them while it steps down. `tidemark-replication promote`
 * asks a node to take over, and `status` prints the lease.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contentHash, tempDirs } from '../../core/test/helpers/dirs.js';
import { KV } from '../../core/test/helpers/tables.js';
import { replicationPort } from '@tidemark/core';
import { joinCluster, type Member, type MemberOptions } from '../src/index.js';
import { type NatsCluster, natsOrSkip, startCluster } from './nats_cluster.js';
import { PartitionProxy } from './partition_proxy.js';

const dirs = tempDirs('tidemark-failover-');
const LEASE_MS = 2_000;
let cluster: NatsCluster | null = null;
const closers: Array<() => Promise<unknown>> = [];

test.after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await cluster?.stop();
  dirs.cleanup();
});

async function options(stream: string, node: string, more: Partial<MemberOptions> = {}): Promise<MemberOptions> {
  cluster ??= await startCluster();
  return {
    ...cluster.connectOptions(),
    stream,
    node,
    dir: dirs.make(),
    leaseMs: LEASE_MS,
    checkpointIntervalMs: 0,
    replicationTimeoutMs: 5_000,
    ...more,
  };
}

async function join(stream: string, node: string, more: Partial<MemberOptions> = {}): Promise<Member> {
  const member = await joinCluster(await options(stream, node, more));
  closers.push(() => member.close());
  return member;
}

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.unreachable(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function keys(member: Member): number[] {
  return member.db
    .table('kv')
    .scan()
    .map((row) => row.k as number)
    .sort((x, y) => x - y);
}

interface PrimaryProcess {
  process: ChildProcess;
  acked: Map<number, number>;
  failed: Map<number, string>;
  roles: string[];
}

/** A primary in a process of its own (fixtures/primary_child.ts), writing until it is killed. */
async function primaryProcess(
  stream: string,
  node: string,
  more: Partial<MemberOptions> = {},
): Promise<PrimaryProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      fileURLToPath(new URL('./fixtures/primary_child.ts', import.meta.url)),
      JSON.stringify(await options(stream, node, more)),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  closers.push(async () => child.kill('SIGKILL'));
  const p: PrimaryProcess = { process: child, acked: new Map(), failed: new Map(), roles: [] };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [what, k, value] = line.split(' ');
    if (what === 'role') p.roles.push(k!);
    if (what === 'ack') p.acked.set(Number(k), Number(value));
    if (what === 'fail') p.failed.set(Number(k), value!);
  });
  await until(() => p.roles.includes('primary'), 'the process becomes the primary');
  return p;
}

/** Runs the tidemark-replication bin from its source. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', bin, ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

/** The replica of the two that took over, once one has. */
async function newPrimary(b: Member, c: Member): Promise<{ next: Member; other: Member }> {
  await until(() => b.role === 'primary' || c.role === 'primary', 'a replica takes over', 60_000);
  return b.role === 'primary' ? { next: b, other: c } : { next: c, other: b };
}

function holdsAll(nodes: Member[], acked: Map<number, number>): void {
  for (const node of nodes) {
    const kv = node.db.table('kv');
    for (const k of acked.keys())
      assert.ok(kv.get(k) !== undefined, `acknowledged key ${k} is on ${node.stats().node}`);
  }
}

if (natsOrSkip('failover')) {
  test('promote() moves writes to a replica; the old primary is fenced, read-only, and follows again', async () => {
    const a = await join('fo_manual', 'a', { autoPromote: false });
    assert.is(a.role, 'primary');
    assert.equal(a.primary(), { node: 'a', epoch: 1 });
    a.db.createTable(KV);
    const acked: number[] = [];
    let token = 0;
    for (let k = 0; k < 50; k++) {
      token = await a.db.table('kv').insert({ k, v: 'a' }, { durability: 'replicated' });
      acked.push(k);
    }
    const b = await join('fo_manual', 'b', { autoPromote: false });
    const c = await join('fo_manual', 'c', { autoPromote: false });
    await b.waitFor(token);
    await c.waitFor(token);
    assert.is(b.role, 'replica');
    await b.promote();
    assert.is(b.role, 'primary');
    assert.equal(b.primary(), { node: 'b', epoch: 2 });
    assert.is(b.stats().promotions, 1);
    // The old primary cannot acknowledge any more: the commit fails, is refused once read-only, or finds the
    // node joining again as a replica.
    const late = await (async () =>
      a.db.table('kv').insert({ k: 1000, v: 'late' }, { durability: 'replicated' }))().then(
      () => 'acknowledged',
      (error: { code?: string }) => error.code,
    );
    assert.ok(
      ['TM_REPLICATION_FENCED', 'TM_READ_ONLY', 'TM_REPLICATION_UNAVAILABLE'].includes(String(late)),
      String(late),
    );
    await until(() => a.role === 'replica' && a.stats().stepDowns === 1, 'the old primary steps down');
    for (let k = 50; k < 100; k++) {
      token = await b.db.table('kv').insert({ k, v: 'b' }, { durability: 'replicated' });
      acked.push(k);
    }
    for (const node of [a, c]) {
      await until(() => {
        try {
          return node.db.table('kv').get(99) !== undefined;
        } catch {
          return false;
        }
      }, `node ${node.stats().node} follows the new primary`);
      await node.waitFor(token);
      assert.equal(keys(node), acked, `node ${node.stats().node} holds exactly the acknowledged keys`);
      assert.is(contentHash(node.db), contentHash(b.db));
      assert.is(node.role, 'replica');
    }
    assert.equal(a.primary(), { node: 'b', epoch: 2 });
  });

  test('tidemark-replication promote moves the lease to the node it names; status prints the holder', async () => {
    const a = await join('fo_cli', 'a', { autoPromote: false });
    a.db.createTable(KV);
    const token = await a.db.table('kv').insert({ k: 1, v: 'a' }, { durability: 'replicated' });
    const b = await join('fo_cli', 'b', { autoPromote: false });
    await b.waitFor(token);
    const { servers, user, pass } = cluster!.connectOptions();
    const nats = ['--servers', servers.join(','), '--stream', 'fo_cli', '--user', user, '--pass', pass];
    const promoted = await cli(['promote', ...nats, '--node', 'b']);
    assert.is(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /node b is the primary \(epoch 2\)/);
    await until(() => b.role === 'primary', 'b is the primary');
    await until(() => a.role === 'replica' && a.stats().stepDowns === 1, 'a steps down');
    const status = await cli(['status', ...nats]);
    assert.equal(JSON.parse(status.stdout), { stream: 'fo_cli', primary: { node: 'b', epoch: 2 } });
    const usage = await cli(['promote', ...nats]);
    assert.is(usage.code, 2);
    assert.match(usage.stderr, /promote needs --node/);
  });

  test('a primary SIGKILLed while writing is replaced once its lease lapses, with every acknowledged commit kept', async () => {
    const child = await primaryProcess('fo_kill', 'p');
    const b = await join('fo_kill', 'b');
    const c = await join('fo_kill', 'c');
    await until(() => child.acked.size >= 200, '200 acknowledged commits');
    child.process.kill('SIGKILL');
    const killedAt = performance.now();
    await new Promise((resolve) => child.process.once('exit', resolve));
    const { next, other } = await newPrimary(b, c);
    const token = await next.db.table('kv').insert({ k: -1, v: 'after' }, { durability: 'replicated' });
    const failoverMs = performance.now() - killedAt;
    console.log(`failover: ${failoverMs.toFixed(0)} ms from SIGKILL to a replicated commit (leaseMs ${LEASE_MS})`);
    assert.equal(next.primary(), { node: next.stats().node, epoch: 2 });
    await other.waitFor(token);
    holdsAll([next, other], child.acked);
    assert.is(contentHash(other.db), contentHash(next.db));
  });

  test('a primary cut off from every NATS node stops, a replica takes over, and healed it follows again', async () => {
    cluster ??= await startCluster();
    const proxy = await PartitionProxy.start(cluster.connectOptions().servers);
    closers.push(() => proxy.stop());
    const child = await primaryProcess('fo_cut', 'p', { servers: proxy.addresses });
    const b = await join('fo_cut', 'b');
    const c = await join('fo_cut', 'c');
    await until(() => child.acked.size >= 100, '100 acknowledged commits');
    proxy.cut();
    const { next, other } = await newPrimary(b, c);
    const token = await next.db.table('kv').insert({ k: -1, v: 'after' }, { durability: 'replicated' });
    // Cut off, it cannot renew its lease: it steps down without reaching any node.
    await until(() => child.roles.at(-1) === 'replica', 'the cut-off primary steps down');
    proxy.heal();
    await other.waitFor(token);
    holdsAll([next, other], child.acked);
    for (const code of child.failed.values())
      assert.ok(['TM_REPLICATION_FENCED', 'TM_REPLICATION_UNAVAILABLE', 'TM_READ_ONLY'].includes(code), code);
    assert.is(contentHash(other.db), contentHash(next.db));
  });

  test('a primary cut off with commits past the stream never answers waitFor from them while it steps down', async () => {
    cluster ??= await startCluster();
    const proxy = await PartitionProxy.start(cluster.connectOptions().servers);
    closers.push(() => proxy.stop());
    const a = await join('fo_diverged', 'a', { servers: proxy.addresses });
    a.db.createTable(KV);
    await a.db.table('kv').insert({ k: 0, v: 'a' }, { durability: 'replicated' });
    const b = await join('fo_diverged', 'b');
    proxy.cut();
    // Local commits the stream never gets: a's commitTs runs past whatever the next primary writes first.
    for (let k = 1; k <= 20; k++) await a.db.table('kv').insert({ k, v: 'diverged' }, { durability: 'durable' });
    const diverged = replicationPort(a.db).commitTs;
    await until(() => b.role === 'primary', 'b takes over', 60_000);
    const token = await b.db.table('kv').insert({ k: -1, v: 'b' }, { durability: 'replicated' });
    assert.ok(diverged >= token, `the cut-off primary's commitTs ${diverged} is past the new primary's ${token}`);
    setTimeout(() => proxy.heal(), LEASE_MS).unref();
    // Until a follows again with b's commit, each waitFor either waits, fails, or answers with the row there.
    const outcomes = new Set<string>();
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await a.waitFor(token, { timeoutMs: 100 });
        assert.ok(a.db.table('kv').get(-1) !== undefined, `a answered waitFor(${token}) without commit ${token}`);
        break;
      } catch (error) {
        if (error instanceof assert.Assertion) throw error;
        const code = (error as { code?: string }).code ?? String(error);
        assert.ok(['TM_STALE', 'TM_REPLICATION_UNAVAILABLE'].includes(code), code);
        outcomes.add(code);
        if (Date.now() > deadline) assert.unreachable(`a never followed again: ${JSON.stringify(a.stats())}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    assert.is(a.role, 'replica');
    assert.is(a.db.table('kv').get(5), undefined, 'its commits past the stream are gone');
    assert.ok(outcomes.size > 0, 'a was asked while it stepped down');
  });

  test('a primary paused past its lease (SIGSTOP) is replaced; resumed, it acknowledges nothing the new primary lacks, and follows', async () => {
    const child = await primaryProcess('fo_pause', 'p');
    const b = await join('fo_pause', 'b');
    const c = await join('fo_pause', 'c');
    await until(() => child.acked.size >= 100, '100 acknowledged commits');
    child.process.kill('SIGSTOP');
    const { next, other } = await newPrimary(b, c);
    await next.db.table('kv').insert({ k: -1, v: 'after' }, { durability: 'replicated' });
    child.process.kill('SIGCONT');
    await until(
      () => child.roles.at(-1) === 'replica' && child.roles.includes('primary'),
      'the old primary follows again',
    );
    child.process.kill('SIGKILL');
    const token = await next.db.table('kv').insert({ k: -2, v: 'last' }, { durability: 'replicated' });
    await other.waitFor(token);
    // Whatever the old primary acknowledged, before or after its pause, the new primary has.
    holdsAll([next, other], child.acked);
    for (const code of child.failed.values())
      assert.ok(['TM_REPLICATION_FENCED', 'TM_REPLICATION_UNAVAILABLE', 'TM_READ_ONLY'].includes(code), code);
    assert.is(contentHash(other.db), contentHash(next.db));
  });
}

test.run();
