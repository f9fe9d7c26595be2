/**
 * The side-by-side comparison as tables: one per workload, a row per store
 * and setting for each figure, with latency, event-loop delay, the ratio to
 * the best other store of the same durability class and to the machine's
 * limit. The same cells make the console table and the Markdown report.
 */
import { classOf, vsBestPeer, vsLimit, type Comparison, type Limit, type Measurement } from '../compare/measurement.js';
import { formatNumber, formatRatio } from './table.js';

export interface CellTable {
  title: string;
  header: string[];
  rows: string[][];
  right: boolean[];
}

const HEADER = [
  'figure',
  'store (setting)',
  'class',
  'value',
  'unit',
  'p99 ms',
  'loop p99 ms',
  'x best other',
  'x limit',
];
const RIGHT = [false, false, false, true, false, true, true, true, true];

function ms(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 3);
}

function label(m: Pick<Measurement, 'store' | 'setting'>): string {
  return `${m.store} (${m.setting})`;
}

function row(m: Measurement, all: readonly Measurement[], limits: readonly Limit[]): string[] {
  const best = vsBestPeer(m, all);
  const limit = vsLimit(m, limits);
  return [
    m.figure,
    label(m),
    classOf(m),
    m.value === null ? `failed: ${m.error ?? 'unknown'}` : formatNumber(m.value),
    m.unit,
    ms(m.p99Ms),
    ms(m.loopDelayP99Ms),
    best === null ? '-' : `${formatRatio(best.ratio)} (${best.best.store})`,
    limit === null ? '-' : `${formatRatio(limit)} ${m.limit}`,
  ];
}

/** The workloads in the order they first appear in the measurements. */
export function workloadNames(measurements: readonly Measurement[]): string[] {
  return [...new Set(measurements.map((m) => m.workload))];
}

/** One table per workload; rows grouped by figure, then durable class, in measurement order. */
export function comparisonTables(comparison: Comparison): CellTable[] {
  const all = comparison.measurements;
  return workloadNames(all).map((workload) => {
    const own = all.filter((m) => m.workload === workload);
    const figures = [...new Set(own.map((m) => m.figure))];
    const ordered = figures.flatMap((figure) => {
      const same = own.filter((m) => m.figure === figure);
      const classes = [...new Set(same.map(classOf))];
      return classes.flatMap((c) => same.filter((m) => classOf(m) === c));
    });
    return { title: workload, header: HEADER, rows: ordered.map((m) => row(m, all, comparison.limits)), right: RIGHT };
  });
}

/** The limits as a table. */
export function limitsTable(limits: readonly Limit[]): CellTable {
  return {
    title: 'limits of this machine',
    header: ['limit', 'value', 'unit', 'how'],
    rows: limits.map((l) => [`${l.name} (${l.key})`, formatNumber(l.value), l.unit, l.note]),
    right: [false, true, false, false],
  };
}

/** Stores and settings, with what each guarantees, and the skipped ones with why. */
export function storesTable(comparison: Comparison): CellTable {
  return {
    title: 'stores',
    header: ['store', 'setting', 'durable', 'guarantee'],
    rows: comparison.cases.map((c) => [
      c.store,
      c.setting,
      c.durable ? 'yes' : 'no',
      c.skipped === undefined ? c.guarantee : `SKIPPED: ${c.skipped}`,
    ]),
    right: [false, false, false, false],
  };
}
