/**
 * `failover`: how long writes stall when the primary of a joinCluster()
 * cluster goes (@tidemark/replication), on a 3-node nats-server cluster on
 * loopback. Each run starts a primary in a process of its own
 * (failover_child.ts, keeping 16 `replicated` upserts in flight) and two
 * followers in this process, then:
 *
 *   kill:         SIGKILL of the primary                    ─┐
 *   kill+leader:  SIGKILL of the primary and, at the same     ├─► until a follower acknowledges a
 *                 moment, of the stream's NATS leader         │   `replicated` commit (tried every 10 ms)
 *   promote:      promote() on a follower, the primary alive ─┘
 *
 * The figure is the median of the runs, each run in the notes. The target
 * (the issue's): kill ≤ leaseMs + 2 s when the stream's leader survives.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { joinCluster, type Member, type MemberOptions } from '@tidemark/replication';
import { type NatsCluster, natsServerPath, startCluster } from '@tidemark/replication/local-cluster';
import { childArgs } from '../child.js';
import type { Workload, WorkloadParams, WorkloadResult } from '../workload.js';

const LEASE_MS = 2_000;
const KINDS = ['kill', 'kill+leader', 'promote'] as const;
type Kind = (typeof KINDS)[number];

interface Run {
  kind: Kind;
  ms: number;
  /** The epoch of the new primary. */
  epoch: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function until<T>(find: () => T | null | Promise<T | null>, what: string, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await find();
    if (found !== null) return found;
    if (Date.now() > deadline) throw new Error(`failover: never ${what}`);
    await sleep(10);
  }
}

/** The first `replicated` commit a follower acknowledges, tried every 10 ms; the follower. */
async function firstCommit(followers: Member[]): Promise<Member> {
  return until(async () => {
    for (const f of followers) {
      if (f.role !== 'primary') continue;
      const ok = await f.db
        .table('kv')
        .upsert({ k: -1, v: 'after' }, { durability: 'replicated' })
        .then(
          () => true,
          () => false,
        );
      if (ok) return f;
    }
    return null;
  }, 'a follower acknowledged a commit');
}

/** The index of the node that leads `stream`. */
async function streamLeader(cluster: NatsCluster, stream: string): Promise<number> {
  const nc = await connect(cluster.connectOptions());
  try {
    const info = await (await jetstreamManager(nc)).streams.info(stream);
    return cluster.names.indexOf(info.cluster?.leader ?? '');
  } finally {
    await nc.close();
  }
}

async function oneRun(cluster: NatsCluster, base: string, kind: Kind, i: number): Promise<Run> {
  const stream = `tm_failover_${i}`;
  const options = (node: string): MemberOptions => ({
    ...cluster.connectOptions(),
    stream,
    node,
    dir: join(base, `${stream}-${node}`),
    leaseMs: LEASE_MS,
    checkpointIntervalMs: 0,
  });
  const child: ChildProcess = spawn(
    process.execPath,
    [...childArgs('workloads/failover_child', import.meta.url, 1), JSON.stringify(options('p'))],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const followers: Member[] = [];
  try {
    let primary = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'primary') primary = true;
    });
    await until(() => (primary ? true : null), 'a primary');
    for (const node of ['b', 'c'])
      followers.push(await joinCluster({ ...options(node), autoPromote: kind !== 'promote' }));
    await sleep(1_000);
    const leader = kind === 'kill+leader' ? await streamLeader(cluster, stream) : -1;
    const started = performance.now();
    if (kind === 'promote') await followers[0]!.promote();
    else child.kill('SIGKILL');
    if (leader >= 0) await cluster.kill(leader);
    const next = await firstCommit(followers);
    const ms = performance.now() - started;
    if (leader >= 0) await cluster.restart(leader);
    return { kind, ms, epoch: next.primary()?.epoch ?? 0 };
  } finally {
    child.kill('SIGKILL');
    for (const f of followers) await f.close().catch(() => {});
  }
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  if (natsServerPath() === null) {
    const reason =
      "nats-server is not installed (bash packages/replication/scripts/setup-nats.sh installs Debian's package)";
    log(`failover: skipped: ${reason}`);
    return { figures: [], notes: [`SKIPPED: ${reason}.`], counts: { skipped: 1 } };
  }
  const runs = params.ops;
  const base = mkdtempSync(join(params.dir ?? tmpdir(), 'tidemark-failover-'));
  let cluster: NatsCluster | null = null;
  try {
    log('failover: starting 3 nats-server nodes on loopback');
    cluster = await startCluster({ nodes: 3 });
    const all: Run[] = [];
    // Kinds in turns (kill, kill+leader, promote, kill, ...): the machine's drift falls on each alike.
    for (let i = 0; i < runs; i++)
      for (const kind of KINDS) {
        log(`failover: ${kind}, run ${i + 1} of ${runs}`);
        all.push(await oneRun(cluster, base, kind, all.length));
      }
    const of = (kind: Kind) => all.filter((r) => r.kind === kind).map((r) => r.ms);
    const fmt = (kind: Kind) =>
      `${kind}: ${of(kind)
        .map((ms) => ms.toFixed(0))
        .join(', ')} ms`;
    return {
      figures: [
        {
          name: 'SIGKILL of the primary → a follower acknowledges a replicated commit',
          unit: 'ms',
          tidemark: median(of('kill')),
          baseline: null,
          target: { on: 'tidemark', compare: 'atMost', value: LEASE_MS + 2_000 },
        },
        {
          name: 'SIGKILL of the primary and the stream leader → a follower acknowledges',
          unit: 'ms',
          tidemark: median(of('kill+leader')),
          baseline: null,
          target: null,
        },
        {
          name: 'promote() on a follower → it acknowledges a replicated commit',
          unit: 'ms',
          tidemark: median(of('promote')),
          baseline: null,
          target: null,
        },
      ],
      notes: [
        `leaseMs ${LEASE_MS}; the primary keeps 16 replicated upserts in flight; the followers run in the harness's process, the primary and the three nats-server nodes in their own, all on this machine's cores. Each figure is the median of ${runs} runs: ${KINDS.map(fmt).join('; ')}.`,
        'A follower takes over once it has seen the lease unrenewed for leaseMs; the primary renewed it every leaseMs / 3, so a kill lands up to a third of a lease after the last renewal.',
      ],
      counts: { runs: all.length },
    };
  } finally {
    try {
      await cluster?.stop();
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }
}

export const failoverWorkload: Workload = {
  name: 'failover',
  description:
    'failover of a joinCluster() primary (3 local NATS nodes, leaseMs 2000): SIGKILL of the primary, of the primary and the stream leader, and promote(), each until a follower acknowledges a replicated commit',
  baseline: "none: the target is the issue's, leaseMs + 2 s",
  // ops: runs of each kind.
  sizes: {
    full: { rows: 0, ops: 5 },
    quick: { rows: 0, ops: 1 },
  },
  run,
};
