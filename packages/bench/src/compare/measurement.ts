/**
 * What the side-by-side comparison records: one Measurement per figure per
 * store and setting, the machine's limits, and the ratios the report prints.
 *
 * Ratios are worked out from the measurements when they are reported, never
 * stored by hand:
 * - `vsBestPeer`: how this row stands against the best *other* store of the
 *   same class: by default its durability class (durable rows against
 *   durable rows, the others against the others); a measurement may name
 *   its own `group` instead (recovery: stores that load every row at open
 *   against each other, stores that read pages on demand against each other). Above 1.00x it beats every other store; for a
 *   figure where lower is better (seconds, bytes) it is best / value, so
 *   above 1.00x still means better.
 * - `vsLimit`: the figure as a share of the machine's limit it is bounded by
 *   (a durable commit with one in flight by the fdatasync rate, a read by
 *   Map.get, a load by Map.set, ...), where a figure has one.
 */

/** A limit of the machine, measured in the same run on the same directory. */
export interface Limit {
  /** Key a measurement names in `limit`: 'fdatasync', 'seqWrite', 'seqRead', 'mapSet', 'mapGet'. */
  key: string;
  name: string;
  unit: string;
  value: number;
  note: string;
}

/** A store at one of its settings, as the report names it. */
export interface StoreCase {
  store: string;
  setting: string;
  durable: boolean;
  guarantee: string;
  /** Why the store did not run here; absent when it ran. */
  skipped?: string;
}

export interface Measurement {
  /** The group it belongs to, e.g. 'durable commits', 'ycsb', 'recovery'. */
  workload: string;
  /** The figure, e.g. 'commits/s, 16 in flight'; rows with one figure are compared. */
  figure: string;
  unit: string;
  better: 'higher' | 'lower';
  store: string;
  setting: string;
  durable: boolean;
  /** null: the store ran but this figure failed (see `error`). */
  value: number | null;
  error?: string;
  /** Key of the Limit this figure is bounded by. */
  limit?: string;
  /** Latency of one operation, from call to resolve. */
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  /** 99th percentile of the main thread's event-loop delay while the figure was measured. */
  loopDelayP99Ms?: number;
  /** For charts: the x of this point (in-flight commits, rows). */
  x?: number;
  /** The class it is compared within, instead of its durability class. */
  group?: string;
}

export interface Comparison {
  cases: StoreCase[];
  limits: Limit[];
  measurements: Measurement[];
  notes: string[];
}

/** The class a measurement is compared within. */
export function classOf(m: Measurement): string {
  return m.group ?? (m.durable ? 'durable' : 'not durable');
}

/** Compares like with like: the same workload and figure, the same class. */
function sameFigure(a: Measurement, b: Measurement): boolean {
  return a.workload === b.workload && a.figure === b.figure && classOf(a) === classOf(b);
}

/** How `m` stands against the best other store of its class; null without one. */
export function vsBestPeer(m: Measurement, all: readonly Measurement[]): { ratio: number; best: Measurement } | null {
  if (m.value === null) return null;
  let best: Measurement | null = null;
  for (const other of all) {
    if (other.store === m.store || other.value === null || !sameFigure(m, other)) continue;
    if (best === null || (m.better === 'higher' ? other.value > best.value! : other.value < best.value!)) best = other;
  }
  if (best === null || best.value === null) return null;
  if (m.better === 'higher') return best.value === 0 ? null : { ratio: m.value / best.value, best };
  return m.value === 0 || best.value === 0 ? null : { ratio: best.value / m.value, best };
}

/** The figure as a share of its limit; null without one. */
export function vsLimit(m: Measurement, limits: readonly Limit[]): number | null {
  if (m.value === null || m.limit === undefined) return null;
  const limit = limits.find((l) => l.key === m.limit);
  return limit === undefined || limit.value === 0 ? null : m.value / limit.value;
}
