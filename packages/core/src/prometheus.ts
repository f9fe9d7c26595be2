/**
 * `@tidemark/core/prometheus`: db.stats() as Prometheus metrics, through
 * prom-client (an optional peer dependency: install it to use this module).
 * Every metric is read from db.stats() when the registry is scraped — no
 * timer, no work between scrapes — so a scrape costs one stats() call.
 *
 *   import { Registry } from 'prom-client';
 *   import { registerTidemarkMetrics } from '@tidemark/core/prometheus';
 *   const registry = new Registry();
 *   registerTidemarkMetrics(db, { registry });
 *   // GET /metrics -> res.end(await registry.metrics())
 *
 * Counters count since the database was opened (the streamer's since it
 * last started). An in-memory database has no log metrics. A closed
 * database's samples are left out of the scrape (prom-client still prints
 * 0 for a metric without labels: give `labels` to tell databases apart).
 */
import { Counter, Gauge, register as globalRegistry, type Registry } from 'prom-client';
import type { Database, DatabaseStats } from './database.js';

export interface TidemarkMetricsOptions {
  /** The registry to register with; prom-client's global one by default. */
  registry?: Registry;
  /** Metric name prefix; default 'tidemark_'. */
  prefix?: string;
  /** Labels added to every metric (e.g. { db: 'orders' } for several databases in one process). */
  labels?: Record<string, string>;
}

type Read = (s: DatabaseStats) => number | null;

interface Simple {
  name: string;
  help: string;
  kind: 'counter' | 'gauge';
  read: Read;
}

const SIMPLE: readonly Simple[] = [
  { name: 'commits_total', help: 'Transactions committed', kind: 'counter', read: (s) => s.commits },
  { name: 'aborts_total', help: 'Transactions aborted', kind: 'counter', read: (s) => s.aborts },
  { name: 'conflicts_total', help: 'Commits that failed on a write-write or serializable conflict', kind: 'counter', read: (s) => s.conflicts },
  { name: 'commit_ts', help: 'The newest commit timestamp', kind: 'gauge', read: (s) => s.commitTs },
  { name: 'open_transactions', help: 'Transactions begun and not finished', kind: 'gauge', read: (s) => s.openTransactions },
  { name: 'durable_ts', help: 'The newest commit timestamp that is durable', kind: 'gauge', read: (s) => s.durability?.durableTs ?? null },
  { name: 'durable_lag_commits', help: 'Logged commits not yet durable', kind: 'gauge', read: (s) => s.durability?.lagCommits ?? null },
  { name: 'disk_full', help: 'Disk state: 0 ok, 1 the next WAL segment cannot be reserved, 2 the log cannot write', kind: 'gauge', read: (s) => (s.durability === null ? null : ['ok', 'no-reserve', 'stalled'].indexOf(s.durability.disk)) },
  { name: 'log_ring_used_bytes', help: 'Bytes in the log ring waiting for the log writer', kind: 'gauge', read: (s) => s.durability?.ring.usedBytes ?? null },
  { name: 'log_ring_capacity_bytes', help: 'Size of the log ring', kind: 'gauge', read: (s) => s.durability?.ring.capacityBytes ?? null },
  { name: 'log_backlog_bytes', help: 'Bytes of records queued on the main thread waiting for ring space', kind: 'gauge', read: (s) => s.durability?.ring.backlogBytes ?? null },
  { name: 'wal_bytes_total', help: 'Bytes written to the WAL', kind: 'counter', read: (s) => s.durability?.wal.bytes ?? null },
  { name: 'wal_syncs_total', help: 'fdatasyncs of the WAL', kind: 'counter', read: (s) => s.durability?.wal.syncs ?? null },
  { name: 'checkpoints_total', help: 'Checkpoints published', kind: 'counter', read: (s) => s.durability?.checkpoints.count ?? null },
  { name: 'checkpoint_seconds_total', help: 'Time spent in checkpoints', kind: 'counter', read: (s) => (s.durability === null ? null : s.durability.checkpoints.totalMs / 1000) },
  { name: 'merges_total', help: 'Merges of checkpoint file pairs installed', kind: 'counter', read: (s) => s.durability?.merges.installed ?? null },
  { name: 'merge_seconds_total', help: 'Time spent in merge tasks', kind: 'counter', read: (s) => (s.durability === null ? null : s.durability.merges.totalMs / 1000) },
  { name: 'cleaner_segments_freed_total', help: 'Arena segments freed by the segment cleaner', kind: 'counter', read: (s) => s.cleaner.segmentsFreed },
  { name: 'cleaner_seconds_total', help: 'Time spent in segment cleaner slices', kind: 'counter', read: (s) => s.cleaner.cleanerMs / 1000 },
  { name: 'recovery_seconds', help: 'How long the last open took', kind: 'gauge', read: (s) => (s.recovery === null ? null : s.recovery.durationMs / 1000) },
];

const TABLE_GAUGES: ReadonlyArray<{ name: string; help: string; field: 'rows' | 'liveBytes' | 'deadBytes' | 'reservedBytes' | 'indexBytes' }> = [
  { name: 'table_rows', help: 'Live rows of a table', field: 'rows' },
  { name: 'table_live_bytes', help: 'Bytes of row versions some snapshot can reach', field: 'liveBytes' },
  { name: 'table_dead_bytes', help: 'Bytes of row versions no snapshot can reach (the cleaner reclaims them)', field: 'deadBytes' },
  { name: 'table_reserved_bytes', help: 'Bytes reserved for the table\'s arena segments', field: 'reservedBytes' },
  { name: 'table_index_bytes', help: 'Bytes of the table\'s primary index', field: 'indexBytes' },
];

/** The stats of an open database, or null once it is closed (its metrics then drop out of the scrape). */
function statsOf(db: Database): DatabaseStats | null {
  return db.closed ? null : db.stats();
}

/** Registers every metric; returns a function that unregisters them (call it when the database closes for good). */
export function registerTidemarkMetrics(db: Database, options: TidemarkMetricsOptions = {}): () => void {
  const registry = options.registry ?? globalRegistry;
  const prefix = options.prefix ?? 'tidemark_';
  const labels = options.labels ?? {};
  const labelNames = Object.keys(labels);
  const names: string[] = [];
  const now = db.stats();
  for (const m of SIMPLE) {
    if (m.read(now) === null) continue; // a log figure of an in-memory database
    const name = prefix + m.name;
    names.push(name);
    if (m.kind === 'counter') {
      new Counter({
        name, help: m.help, labelNames, registers: [registry],
        collect() {
          const s = statsOf(db);
          const value = s === null ? null : m.read(s);
          this.reset();
          if (value !== null) this.inc(labels, value);
        },
      });
    } else {
      new Gauge({
        name, help: m.help, labelNames, registers: [registry],
        collect() {
          const s = statsOf(db);
          const value = s === null ? null : m.read(s);
          this.reset();
          if (value !== null) this.set(labels, value);
        },
      });
    }
  }
  const cfpName = `${prefix}checkpoint_pairs`;
  if (now.durability !== null) names.push(cfpName);
  if (now.durability !== null) new Gauge({
    name: cfpName, help: 'Checkpoint file pairs in each state', labelNames: [...labelNames, 'state'], registers: [registry],
    collect() {
      this.reset();
      const d = statsOf(db)?.durability;
      if (d === null || d === undefined) return;
      for (const [state, count] of Object.entries(d.cfps)) this.set({ ...labels, state }, count);
    },
  });
  for (const t of TABLE_GAUGES) {
    const name = prefix + t.name;
    names.push(name);
    new Gauge({
      name, help: t.help, labelNames: [...labelNames, 'table'], registers: [registry],
      collect() {
        this.reset();
        for (const table of statsOf(db)?.tables ?? []) this.set({ ...labels, table: table.name }, table[t.field]);
      },
    });
  }
  return () => {
    for (const name of names) registry.removeSingleMetric(name);
  };
}
