/**
 * `replication`: what shipping the log through NATS JetStream
 * (@tidemark/replication) costs and how fast it goes, measured in one run
 * on a 3-node nats-server cluster started on loopback (with authorization,
 * as `@tidemark/replication/local-cluster` starts it):
 *
 *   1. `replicated` single-row upserts of 100-byte rows at 1, 16 and 256 in
 *      flight against raw JetStream R3 publish-acks of one log record's
 *      bytes at the same levels (replication_commits.ts);
 *   2. `durable` upserts at 256 in flight with shipping on and off
 *      (replication_commits.ts);
 *   3. a replica's lag at the primary's full durable rate
 *      (replication_lag.ts);
 *   4. a replica's bootstrap of N rows from the object store against a
 *      local open() of a copy of the same checkpoint, and the store's own
 *      get rate (replication_bootstrap.ts).
 *
 * A/B runs are interleaved (A B B A A B); the medians are the figures and
 * every run is in the notes. Without nats-server the workload is skipped,
 * with the reason. The cluster is stopped and every folder removed, whatever
 * happens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replicate, type ReplicationStats } from '@tidemark/replication';
import { type NatsCluster, natsServerPath, startCluster } from '@tidemark/replication/local-cluster';
import { EVENT_LOOP_IN_FLIGHT } from '../constants.js';
import { generateRows, type RowColumns } from '../data.js';
import { collectGarbage } from '../measure.js';
import type { Workload, WorkloadParams, WorkloadResult } from '../workload.js';
import { type Bootstrap, measureBootstrap } from './replication_bootstrap.js';
import {
  type NatsAccess,
  type Pace,
  replicatedVersusRaw,
  type ShippingOnOff,
  shippingOnOff,
  type VersusRaw,
} from './replication_commits.js';
import { type Lag, replicaLag } from './replication_lag.js';
import { ledgerRow, openLedger, recordBytes } from './replication_lanes.js';
import { replicationFigures, replicationNotes } from './replication_report.js';

/** Each loop runs this long before its window opens (the JIT, the log writer's and the shipper's pace). */
const WARM_MS = 500;
const PRIMARY_STREAM = 'tm_bench_primary';

/** Everything the workload measured, for the report. */
export interface Measured {
  recordBytes: number;
  versus: VersusRaw[];
  /** The primary's shipping figures at the end of step 1. */
  shipped: ReplicationStats;
  lag: Lag;
  shipping: ShippingOnOff;
  bootstrap: Bootstrap;
}

/** Steps 1 and 3, on one primary shipping to PRIMARY_STREAM. */
async function withPrimary(
  base: string,
  nats: NatsAccess,
  rows: RowColumns,
  payloadBytes: number,
  pace: Pace,
  log: (line: string) => void,
): Promise<Pick<Measured, 'versus' | 'shipped' | 'lag'>> {
  const db = await openLedger(join(base, 'primary'));
  try {
    const replication = await replicate(db, { ...nats, stream: PRIMARY_STREAM, checkpointIntervalMs: 0 });
    try {
      log('replication: replicated upserts vs raw JetStream publishes, in turns');
      const versus = await replicatedVersusRaw(db, nats, rows, payloadBytes, pace, log);
      const shipped = replication.stats();
      collectGarbage();
      log(`replication: a replica following the primary's durable upserts at ${EVENT_LOOP_IN_FLIGHT} in flight`);
      const lag = await replicaLag(db, replication, nats, PRIMARY_STREAM, join(base, 'replica'), rows, pace);
      return { versus, shipped, lag };
    } finally {
      await replication.close();
    }
  } finally {
    await db.close();
  }
}

async function measure(
  base: string,
  cluster: NatsCluster,
  params: WorkloadParams,
  log: (line: string) => void,
): Promise<Measured> {
  const nats = cluster.connectOptions();
  const rows = generateRows(params.ops, params.seed);
  const pace: Pace = { warmMs: WARM_MS, seconds: params.secondsLimit ?? 1 };
  const probe = join(base, 'probe');
  const payloadBytes = await recordBytes(probe, ledgerRow(rows, 0));
  rmSync(probe, { recursive: true, force: true });
  const primary = await withPrimary(base, nats, rows, payloadBytes, pace, log);
  collectGarbage();
  log(`replication: durable upserts, ${EVENT_LOOP_IN_FLIGHT} in flight, shipping on and off in turns`);
  const shipping = await shippingOnOff(base, nats, rows, pace, log);
  collectGarbage();
  const bootstrap = await measureBootstrap(base, nats, generateRows(params.rows, params.seed + 1), log);
  return { recordBytes: payloadBytes, ...primary, shipping, bootstrap };
}

/**
 * While the workload runs, SIGINT and SIGTERM end the process through
 * process.exit(), so that the 'exit' handlers run: the local cluster's
 * (which kills its nodes and removes their folder) and this one's (which
 * removes `base`). Returns the function that takes them off again.
 */
function exitOnSignal(base: string): () => void {
  const onSignal = (signal: NodeJS.Signals): void => process.exit(signal === 'SIGINT' ? 130 : 143);
  const onExit = (): void => rmSync(base, { recursive: true, force: true });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', onExit);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
}

async function run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult> {
  if (natsServerPath() === null) {
    const reason =
      "nats-server is not installed (bash packages/replication/scripts/setup-nats.sh installs Debian's package)";
    log(`replication: skipped: ${reason}`);
    return { figures: [], notes: [`SKIPPED: ${reason}.`], counts: { skipped: 1 } };
  }
  const parent = params.dir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'tidemark-replication-'));
  const unhook = exitOnSignal(base);
  let cluster: NatsCluster | null = null;
  try {
    log('replication: starting 3 nats-server nodes on loopback');
    cluster = await startCluster({ nodes: 3 });
    const m = await measure(base, cluster, params, log);
    return {
      figures: replicationFigures(m),
      notes: [
        `Files in ${parent}; the nats-server nodes' stores in the OS temp folder. The primary, the replica and the three nats-server processes share this machine's cores. Rows are { id int32, name string(16), balance float64, ts float64, memo string(64) } (100 bytes of values), each write a single-row upsert over a key space of ${params.ops.toLocaleString('en-US')} ids. Every loop keeps K calls in flight (a lane starts the next when its call resolves), ${WARM_MS} ms of warm-up, then a window of ${(params.secondsLimit ?? 1).toString()} s: the calls that resolve in it, and their latency from call to resolve.`,
        ...replicationNotes(m),
      ],
      counts: {
        recordBytes: m.recordBytes,
        lagCommits: m.lag.window.ops,
        bootstrapRows: m.bootstrap.rows,
        checkpointBytes: m.bootstrap.upload.bytes,
      },
    };
  } finally {
    try {
      await cluster?.stop();
    } finally {
      rmSync(base, { recursive: true, force: true });
      unhook();
    }
  }
}

export const replicationWorkload: Workload = {
  name: 'replication',
  description:
    'shipping the log to NATS JetStream (3 local nodes): replicated commits vs raw R3 publishes at 1/16/256 in flight; durable commits with shipping on vs off; replica lag at full durable rate; bootstrap of N rows from the object store vs a local open()',
  baseline:
    "raw JetStream R3 publish-acks (replicated); shipping off (durable); the primary (lag); a local open() of the same checkpoint and the store's getBlob (bootstrap)",
  // rows: the bootstrapped table; ops: the key space of the upserts; seconds: each measured window.
  sizes: {
    full: { rows: 1_000_000, ops: 200_000, seconds: 5 },
    quick: { rows: 50_000, ops: 50_000, seconds: 0.5 },
  },
  run,
};
