/**
 * `@tidemark/replication/prometheus`: a primary's or a replica's stats() as
 * Prometheus gauges through prom-client (an optional peer dependency), read
 * once per scrape, as `@tidemark/core/prometheus` does for a database.
 *
 *   registerReplicationMetrics(replication, { registry });  // tidemark_replication_shipped_ts, …
 *   registerReplicationMetrics(replica, { registry });      // tidemark_replica_applied_seq, tidemark_replica_lag_ms, …
 */
import { Gauge, register as globalRegistry, type Registry } from 'prom-client';
import { ErrorCode, TidemarkError } from '@tidemark/core';
import { Replication, type ReplicationStats } from './primary.js';
import { Replica, type ReplicaStats } from './replica.js';

export interface ReplicationMetricsOptions {
  registry?: Registry;
  /** Metric name prefix; default 'tidemark_'. */
  prefix?: string;
  /** Labels added to every metric, e.g. { db: 'orders' }. */
  labels?: Record<string, string>;
}

type Figures<S> = Array<[name: string, help: string, read: (s: S) => number]>;

const PRIMARY: Figures<ReplicationStats> = [
  ['replication_shipped_ts', 'Every commit up to this commitTs is in the stream', (s) => s.shippedTs],
  ['replication_stream_seq', 'The stream sequence of the newest message acknowledged', (s) => s.streamSeq],
  ['replication_unshipped_ts', 'How far (in commitTs) the stream is behind this database', (s) => s.unshippedTs],
  [
    'replication_unshipped_bytes',
    'WAL bytes made durable since the last commit the stream acknowledged',
    (s) => s.unshippedBytes,
  ],
  [
    'replication_backlog_releases',
    'Times the backlog passed maxUnshippedBytes and the WAL kept for the stream was let go',
    (s) => s.backlogReleases,
  ],
  ['replication_in_flight', 'Messages sent and not yet acknowledged', (s) => s.inFlight],
  ['replication_in_flight_bytes', 'Bytes of the messages in flight', (s) => s.inFlightBytes],
  ['replication_waiting', "Commits with durability 'replicated' waiting for the stream", (s) => s.waiting],
  ['replication_messages', 'Messages acknowledged by the stream since replicate()', (s) => s.messages],
  ['replication_bytes', 'Payload bytes acknowledged by the stream since replicate()', (s) => s.bytes],
  ['replication_retries', 'Resyncs after a failed publish', (s) => s.retries],
  ['replication_fenced', 'Whether this primary was fenced off (1) or not (0)', (s) => (s.state === 'fenced' ? 1 : 0)],
  [
    'replication_checkpoint_ts',
    'The commitTs of the newest checkpoint in the object store',
    (s) => s.checkpoint?.commitTs ?? 0,
  ],
];

const REPLICA: Figures<ReplicaStats> = [
  ['replica_applied_ts', 'The newest commit applied: reads see every commit up to it', (s) => s.appliedTs],
  ['replica_applied_seq', 'The stream sequence of the last message applied', (s) => s.appliedSeq],
  ['replica_lag_messages', 'Messages in the stream after the last one applied', (s) => s.lagMessages],
  ['replica_lag_ms', 'How long the last message applied had been in the stream', (s) => s.lagMs],
  ['replica_records', 'Records applied since the replica opened', (s) => s.records],
  ['replica_bootstraps', 'Bootstraps from the object store since the replica opened', (s) => s.bootstraps],
  [
    'replica_failed',
    'Whether the replica stopped on a damaged or foreign message (1) or not (0)',
    (s) => (s.state === 'failed' ? 1 : 0),
  ],
];

/** Registers the gauges of `source` (a primary's Replication or a Replica); returns them. */
export function registerReplicationMetrics(
  source: Replication | Replica,
  options: ReplicationMetricsOptions = {},
): Gauge[] {
  if (!(source instanceof Replication) && !(source instanceof Replica))
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'registerReplicationMetrics() takes a Replication or a Replica');
  const registry = options.registry ?? globalRegistry;
  const prefix = options.prefix ?? 'tidemark_';
  const labels = options.labels ?? {};
  const names = Object.keys(labels);
  const gauge = <S>(figures: Figures<S>, stats: () => S): Gauge[] => {
    let scraped: S | null = null;
    return figures.map(([name, help, read], i) => {
      return new Gauge({
        name: prefix + name,
        help,
        labelNames: names,
        registers: [registry],
        collect() {
          // The first figure of a scrape reads stats() once; the others reuse it.
          if (i === 0 || scraped === null) scraped = stats();
          this.set(labels, read(scraped));
        },
      });
    });
  };
  if (source instanceof Replication) return gauge(PRIMARY, () => source.stats());
  return gauge(REPLICA, () => source.stats());
}
