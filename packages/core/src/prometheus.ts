/**
 * `@tidemark/core/prometheus`: db.stats() as Prometheus metrics, through
 * prom-client (an optional peer dependency: install it to use this module).
 * Every metric is read from db.stats() when the registry is scraped — no
 * timer, no work between scrapes — and a scrape calls stats() once per
 * database (every metric of the scrape reuses it).
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
import { DISK_STATE_NAMES } from './log/log_control.js';
import { ErrorCode, TidemarkError } from './errors.js';
import { checkOptionKeys } from './options.js';

const METRICS_KEYS: ReadonlySet<string> = new Set(['registry', 'prefix', 'labels']);

export interface TidemarkMetricsOptions {
  /** The registry to register with; prom-client's global one by default. */
  registry?: Registry;
  /** Metric name prefix; default 'tidemark_'. */
  prefix?: string;
  /** Labels added to every metric (e.g. { db: 'orders' }): several databases share a registry with their own label values. */
  labels?: Record<string, string>;
}

type Read = (s: DatabaseStats) => number | null;

interface Simple {
  name: string;
  /** A figure of the log, checkpoints or recovery: none for an in-memory database. */
  log?: true;
  help: string;
  kind: 'counter' | 'gauge';
  read: Read;
}

const SIMPLE: readonly Simple[] = [
  { name: 'commits_total', help: 'Transactions committed', kind: 'counter', read: (s) => s.commits },
  { name: 'aborts_total', help: 'Transactions aborted', kind: 'counter', read: (s) => s.aborts },
  {
    name: 'conflicts_total',
    help: 'Commits that failed on a write-write or serializable conflict',
    kind: 'counter',
    read: (s) => s.conflicts,
  },
  { name: 'commit_ts', help: 'The newest commit timestamp', kind: 'gauge', read: (s) => s.commitTs },
  {
    name: 'open_transactions',
    help: 'Transactions begun and not finished',
    kind: 'gauge',
    read: (s) => s.openTransactions,
  },
  {
    name: 'durable_ts',
    log: true,
    help: 'The newest commit timestamp that is durable',
    kind: 'gauge',
    read: (s) => s.durability?.durableTs ?? null,
  },
  {
    name: 'durable_lag_ts',
    log: true,
    help: 'Row writes logged and not yet durable (the newest logged commitTs minus the durable one)',
    kind: 'gauge',
    read: (s) => s.durability?.lagTs ?? null,
  },
  {
    name: 'durable_waiting',
    log: true,
    help: 'Durable commits and flushes waiting for fdatasync',
    kind: 'gauge',
    read: (s) => s.durability?.waiting ?? null,
  },
  {
    name: 'disk_full',
    log: true,
    help: 'Disk state: 0 ok, 1 the next WAL segment cannot be reserved, 2 the log cannot write',
    kind: 'gauge',
    read: (s) => (s.durability === null ? null : DISK_STATE_NAMES.indexOf(s.durability.disk)),
  },
  {
    name: 'log_ring_used_bytes',
    log: true,
    help: 'Bytes in the log ring waiting for the log writer',
    kind: 'gauge',
    read: (s) => s.durability?.ring.usedBytes ?? null,
  },
  {
    name: 'log_ring_capacity_bytes',
    log: true,
    help: 'Size of the log ring',
    kind: 'gauge',
    read: (s) => s.durability?.ring.capacityBytes ?? null,
  },
  {
    name: 'log_backlog_bytes',
    log: true,
    help: 'Bytes of records queued on the main thread waiting for ring space',
    kind: 'gauge',
    read: (s) => s.durability?.ring.backlogBytes ?? null,
  },
  {
    name: 'wal_bytes_total',
    log: true,
    help: 'Bytes written to the WAL',
    kind: 'counter',
    read: (s) => s.durability?.wal.bytes ?? null,
  },
  {
    name: 'wal_syncs_total',
    log: true,
    help: 'fdatasyncs of the WAL',
    kind: 'counter',
    read: (s) => s.durability?.wal.syncs ?? null,
  },
  {
    name: 'wal_archive_failing',
    log: true,
    help: 'Whether the WAL archive (options.archiveDir) is failing: segments wait on disk for it (1) or not (0)',
    kind: 'gauge',
    read: (s) => (s.durability?.archive == null ? null : s.durability.archive.failing ? 1 : 0),
  },
  {
    name: 'wal_archive_skipped_total',
    log: true,
    help: 'WAL segments let go unarchived past options.maxRetainedWalBytes',
    kind: 'counter',
    read: (s) => s.durability?.archive?.skipped ?? null,
  },
  {
    name: 'checkpoints_total',
    log: true,
    help: 'Checkpoints published',
    kind: 'counter',
    read: (s) => s.durability?.checkpoints.count ?? null,
  },
  {
    name: 'checkpoint_seconds_total',
    log: true,
    help: 'Time spent in checkpoints',
    kind: 'counter',
    read: (s) => (s.durability === null ? null : s.durability.checkpoints.totalMs / 1000),
  },
  {
    name: 'merges_total',
    log: true,
    help: 'Merges of checkpoint file pairs installed',
    kind: 'counter',
    read: (s) => s.durability?.merges.installed ?? null,
  },
  {
    name: 'merge_seconds_total',
    log: true,
    help: 'Time spent in merge tasks',
    kind: 'counter',
    read: (s) => (s.durability === null ? null : s.durability.merges.totalMs / 1000),
  },
  {
    name: 'cleaner_segments_freed_total',
    help: 'Arena segments freed by the segment cleaner',
    kind: 'counter',
    read: (s) => s.cleaner.segmentsFreed,
  },
  {
    name: 'cleaner_seconds_total',
    help: 'Time spent in segment cleaner slices',
    kind: 'counter',
    read: (s) => s.cleaner.cleanerMs / 1000,
  },
  {
    name: 'recovery_seconds',
    log: true,
    help: 'How long the last open took',
    kind: 'gauge',
    read: (s) => (s.recovery === null ? null : s.recovery.durationMs / 1000),
  },
];

const TABLE_GAUGES: ReadonlyArray<{
  name: string;
  help: string;
  field: 'rows' | 'liveBytes' | 'deadBytes' | 'reservedBytes' | 'indexBytes';
}> = [
  { name: 'table_rows', help: 'Live rows of a table', field: 'rows' },
  { name: 'table_live_bytes', help: 'Bytes of row versions some snapshot can reach', field: 'liveBytes' },
  {
    name: 'table_dead_bytes',
    help: 'Bytes of row versions no snapshot can reach (the cleaner reclaims them)',
    field: 'deadBytes',
  },
  { name: 'table_reserved_bytes', help: "Bytes reserved for the table's arena segments", field: 'reservedBytes' },
  { name: 'table_index_bytes', help: "Bytes of the table's primary index", field: 'indexBytes' },
];

/** One database on a registry, with its label values. */
interface Source {
  db: Database;
  labels: Record<string, string>;
  /** stats() of the current scrape, reused by every metric of it. */
  cached: { at: number; stats: DatabaseStats | null } | null;
}

/** The metric set of one registry and prefix, shared by every database registered on it. */
interface MetricSet {
  labelNames: string[];
  withLog: boolean;
  sources: Source[];
  names: string[];
}

/** A scrape reads each database's stats once: collect() calls within this long reuse them. */
const SCRAPE_MS = 100;

const sets = new WeakMap<Registry, Map<string, MetricSet>>();

/** The stats of an open database for this scrape, or null once it is closed (its samples then drop out). */
function statsOf(source: Source): DatabaseStats | null {
  if (source.db.closed) return null;
  const now = performance.now();
  if (source.cached === null || now - source.cached.at > SCRAPE_MS)
    source.cached = { at: now, stats: source.db.stats() };
  return source.cached.stats;
}

function createSet(registry: Registry, prefix: string, labelNames: string[], withLog: boolean): MetricSet {
  const set: MetricSet = { labelNames, withLog, sources: [], names: [] };
  const each = (visit: (stats: DatabaseStats, labels: Record<string, string>) => void): void => {
    for (const source of set.sources) {
      const stats = statsOf(source);
      if (stats !== null) visit(stats, source.labels);
    }
  };
  for (const m of SIMPLE) {
    if (!withLog && m.log === true) continue;
    const name = prefix + m.name;
    set.names.push(name);
    const Metric = m.kind === 'counter' ? Counter : Gauge;
    new Metric({
      name,
      help: m.help,
      labelNames,
      registers: [registry],
      collect(this: Counter | Gauge) {
        this.reset();
        each((stats, labels) => {
          const value = m.read(stats);
          if (value === null) return;
          if (this instanceof Counter) this.inc(labels, value);
          else this.set(labels, value);
        });
      },
    });
  }
  if (withLog) {
    set.names.push(`${prefix}checkpoint_pairs`);
    new Gauge({
      name: `${prefix}checkpoint_pairs`,
      help: 'Checkpoint file pairs in each state',
      labelNames: [...labelNames, 'state'],
      registers: [registry],
      collect() {
        this.reset();
        each((stats, labels) => {
          for (const [state, count] of Object.entries(stats.durability?.cfps ?? {}))
            this.set({ ...labels, state }, count);
        });
      },
    });
  }
  for (const t of TABLE_GAUGES) {
    set.names.push(prefix + t.name);
    new Gauge({
      name: prefix + t.name,
      help: t.help,
      labelNames: [...labelNames, 'table'],
      registers: [registry],
      collect() {
        this.reset();
        each((stats, labels) => {
          for (const table of stats.tables) this.set({ ...labels, table: table.name }, table[t.field]);
        });
      },
    });
  }
  return set;
}

/**
 * Registers `db`'s metrics; returns a function that unregisters them. Several
 * databases may share a registry (and prefix) when each has `labels` with
 * the same names and its own values, and all have a directory or all live
 * in memory; the metrics leave the registry with the last database.
 */
export function registerTidemarkMetrics(db: Database, options: TidemarkMetricsOptions = {}): () => void {
  checkOptionKeys(options, METRICS_KEYS);
  if (options.prefix !== undefined && typeof options.prefix !== 'string')
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.prefix must be a string');
  if (options.labels !== undefined && (options.labels === null || typeof options.labels !== 'object')) {
    throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.labels must be an object of label names and values');
  }
  const registry = options.registry ?? globalRegistry;
  const prefix = options.prefix ?? 'tidemark_';
  const labels = { ...(options.labels ?? {}) };
  const labelNames = Object.keys(labels).sort();
  const withLog = db.stats().durability !== null;
  let byPrefix = sets.get(registry);
  if (byPrefix === undefined) sets.set(registry, (byPrefix = new Map()));
  let set = byPrefix.get(prefix);
  if (set === undefined) byPrefix.set(prefix, (set = createSet(registry, prefix, labelNames, withLog)));
  else {
    if (set.labelNames.join() !== labelNames.join())
      throw new TypeError(
        `every database on one registry needs the same label names (${set.labelNames.join(', ') || 'none'}), not ${labelNames.join(', ') || 'none'}`,
      );
    if (set.withLog !== withLog)
      throw new TypeError('databases on one registry must all have a directory, or all live in memory');
    const same = set.sources.find((s) => labelNames.every((n) => s.labels[n] === labels[n]));
    if (same !== undefined)
      throw new TypeError(
        `a database with the labels ${JSON.stringify(labels)} is already registered: give each its own label values`,
      );
  }
  const source: Source = { db, labels, cached: null };
  set.sources.push(source);
  const owner = set;
  return () => {
    const at = owner.sources.indexOf(source);
    if (at < 0) return;
    owner.sources.splice(at, 1);
    if (owner.sources.length > 0) return;
    for (const name of owner.names) registry.removeSingleMetric(name);
    byPrefix!.delete(prefix);
  };
}
