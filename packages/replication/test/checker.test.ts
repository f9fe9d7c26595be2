/**
 * A Jepsen-style checker of failover. Three NATS nodes, three Tidemark
 * nodes (joinCluster, each in a process of its own: checker/node_process.ts)
 * and four clients doing bank transfers and inserts with `replicated`
 * durability against whichever node is the primary, with read-your-writes
 * reads on the others. Meanwhile a nemesis, one fault per round, SIGKILLs
 * the primary or a replica, pauses the primary past its lease, kills a NATS
 * node, cuts the primary off from every NATS node (a TCP proxy in front of
 * each, per node), or promotes a replica by hand, and heals it. Then everything is
 * healed and the history is checked (checker/history.ts): nothing
 * acknowledged lost, nothing failed kept, money conserved, one node per
 * epoch, every read saw its write, every node alike. The history goes to a
 * file in the OS temp folder, named in the report; a failed check prints the
 * window of it that shows the anomaly.
 *
 * Rounds: 3 in the quick tier, 20 in the long one (TIDEMARK_LONG=1), and
 * TIDEMARK_SOAK_ROUNDS (default 200) with TIDEMARK_SOAK=1.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDirs } from '../../core/test/helpers/dirs.js';
import { History, type NodeState, outcomeOf } from './checker/history.js';
import { CheckerNode } from './checker/nodes.js';
import { type NatsCluster, natsOrSkip, startCluster } from './nats_cluster.js';
import { PartitionProxy } from './partition_proxy.js';

const ROUNDS =
  process.env.TIDEMARK_SOAK === '1'
    ? Number(process.env.TIDEMARK_SOAK_ROUNDS ?? 200)
    : process.env.TIDEMARK_LONG === '1'
      ? 20
      : 3;
const ACCOUNTS = 8;
const CLIENTS = 4;
const LEASE_MS = 1_500;
const ROUND_MS = 2_000;
const FAULTS = [
  'kill-primary',
  'kill-replica',
  'pause-primary',
  'partition-primary',
  'kill-nats-node',
  'promote',
] as const;

const dirs = tempDirs('tidemark-checker-');
let cluster: NatsCluster | null = null;
let nodes: CheckerNode[] = [];
/** Each node reaches the NATS nodes through proxies of its own: cut, they isolate it from all of them. */
const proxies = new Map<CheckerNode, PartitionProxy>();

test.after(async () => {
  for (const node of nodes) {
    node.resume();
    await node.kill();
  }
  for (const proxy of proxies.values()) await proxy.stop();
  await cluster?.stop();
  dirs.cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** The node that says it is the primary (asked in turn), or null. */
async function primary(): Promise<CheckerNode | null> {
  for (const node of nodes) {
    const answer = await node.ask('role', {}, 2_000);
    if (answer.ok && answer.role === 'primary') return node;
  }
  return null;
}

async function until<T>(find: () => Promise<T | null>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await find();
    if (found !== null) return found;
    if (Date.now() > deadline) assert.unreachable(`never: ${what}`);
    await sleep(100);
  }
}

async function client(c: number, history: History, stopped: () => boolean): Promise<void> {
  for (let i = 0; !stopped(); i++) {
    const node = await primary();
    if (node === null) {
      await sleep(100);
      continue;
    }
    const tid = `c${c}-${i}`;
    const transfer = Math.random() < 0.7;
    const from = Math.floor(Math.random() * ACCOUNTS);
    const args = transfer
      ? { tid, from, to: (from + 1) % ACCOUNTS, amount: 1 + Math.floor(Math.random() * 5) }
      : { tid };
    const op = transfer ? 'transfer' : 'insert';
    history.add({ kind: 'invoke', op, tid, node: node.name });
    const answer = await node.ask(op, args, 20_000);
    const outcome = answer.ok ? 'ok' : outcomeOf(answer.code);
    const token = answer.token as number | undefined;
    history.add({
      kind: 'complete',
      op,
      tid,
      node: node.name,
      outcome,
      code: answer.code,
      token,
      epoch: answer.epoch as number,
    });
    if (outcome !== 'ok' || Math.random() < 0.5) continue;
    const reader = pick(nodes.filter((n) => n !== node && n.running && !n.paused));
    if (reader === undefined) continue;
    const read = await reader.ask('read', { tid, token }, 10_000);
    if (read.ok) history.add({ kind: 'read', tid, node: reader.name, outcome: read.found ? 'ok' : 'fail' });
  }
}

/** One fault, held for a round, then healed. */
async function round(history: History): Promise<void> {
  const fault = pick(FAULTS);
  const p = await primary();
  const replicas = nodes.filter((n) => n !== p && n.running);
  history.add({ kind: 'fault', op: fault, node: p?.name, detail: 'start' });
  if (fault === 'kill-primary' && p !== null) {
    await p.kill();
    await sleep(ROUND_MS);
    await p.start();
  } else if (fault === 'kill-replica' && replicas.length > 0) {
    const r = pick(replicas);
    await r.kill();
    await sleep(ROUND_MS);
    await r.start();
  } else if (fault === 'partition-primary' && p !== null) {
    proxies.get(p)!.cut();
    await sleep(Math.max(ROUND_MS, 2 * LEASE_MS));
    proxies.get(p)!.heal();
  } else if (fault === 'pause-primary' && p !== null) {
    p.pause();
    await sleep(Math.max(ROUND_MS, 2 * LEASE_MS));
    p.resume();
  } else if (fault === 'kill-nats-node') {
    const n = Math.floor(Math.random() * 3);
    await cluster!.kill(n);
    await sleep(ROUND_MS);
    await cluster!.restart(n);
  } else if (fault === 'promote' && replicas.length > 0) {
    await pick(replicas).ask('promote', {}, 20_000);
    await sleep(ROUND_MS);
  }
  history.add({ kind: 'fault', op: fault, detail: 'healed' });
  await until(primary, `a primary after ${fault}`).catch(async (error: Error) => {
    const roles = await Promise.all(nodes.map((n) => n.ask('role', {}, 2_000)));
    throw new Error(`${error.message}: ${JSON.stringify(roles)}`);
  });
}

if (natsOrSkip('checker')) {
  test(`checker: ${ROUNDS} nemesis rounds of failover faults lose nothing acknowledged`, async () => {
    cluster = await startCluster();
    nodes = [];
    for (const name of ['n1', 'n2', 'n3']) {
      const proxy = await PartitionProxy.start(cluster.connectOptions().servers);
      const node = new CheckerNode(name, {
        ...cluster.connectOptions(),
        servers: proxy.addresses,
        stream: 'bank',
        node: name,
        dir: dirs.make(),
        leaseMs: LEASE_MS,
        checkpointIntervalMs: 0,
        replicationTimeoutMs: 5_000,
      });
      proxies.set(node, proxy);
      nodes.push(node);
    }
    await nodes[0]!.start();
    const setup = await nodes[0]!.ask('setup', { accounts: ACCOUNTS }, 30_000);
    assert.ok(setup.ok, setup.message);
    await nodes[1]!.start();
    await nodes[2]!.start();
    const history = new History();
    let stop = false;
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c, history, () => stop));
    try {
      for (let r = 0; r < ROUNDS; r++) await round(history);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    // Healed: one last write through the primary, and every node caught up with it.
    const final = await until(async () => {
      const p = await primary();
      const answer = await p?.ask('insert', { tid: 'final' }, 20_000);
      return answer?.ok ? (answer.token as number) : null;
    }, 'a final write');
    history.add({ kind: 'invoke', op: 'insert', tid: 'final' });
    history.add({ kind: 'complete', op: 'insert', tid: 'final', outcome: 'ok', token: final });
    const states: NodeState[] = [];
    for (const node of nodes) {
      await until(async () => {
        const read = await node.ask('read', { tid: 'final', token: final });
        return read.ok && read.found ? true : null;
      }, `${node.name} applies the final write`);
      const state = await node.ask('state');
      states.push({ node: node.name, log: state.log as string[], balances: state.balances as number[] });
    }
    const anomalies = history.check(states, ACCOUNTS);
    const file = join(tmpdir(), `tidemark-checker-${process.pid}.jsonl`);
    history.write(file);
    const faults = new Map<string, number>();
    for (const e of history.entries)
      if (e.kind === 'fault' && e.detail === 'start') faults.set(e.op!, (faults.get(e.op!) ?? 0) + 1);
    console.log(
      `checker: ${ROUNDS} rounds, ${history.count('complete')} operations (${history.count('complete', 'ok')} acknowledged, ` +
        `${history.count('complete', 'fail')} failed, ${history.count('complete', 'unknown')} unknown), ` +
        `${history.count('read')} reads, faults ${JSON.stringify(Object.fromEntries(faults))}, ${anomalies.length} anomalies; the history: ${file}`,
    );
    assert.is(anomalies.length, 0, `${anomalies.slice(0, 3).join('\n\n')}\nthe whole history: ${file}`);
  });
}

test.run();
