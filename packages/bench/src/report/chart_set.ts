/**
 * The charts of a run, made from its results document: throughput against
 * commits in flight, commit latency percentiles, the YCSB mixes, recovery
 * time against rows and workers, and disk and memory over time under
 * merge. A chart whose data the run did not produce is left out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Measurement } from '../compare/measurement.js';
import { barChartSpec, lineChartSpec, renderSvg, type Point } from './charts.js';
import type { BenchResults } from './results.js';

export interface Chart {
  /** File name under `charts/`, e.g. 'durable-commits.svg'. */
  file: string;
  title: string;
  spec: TopLevelSpec;
}

/** The in-flight level whose latencies the percentile chart shows. */
const LATENCY_IN_FLIGHT = 256;
const MB = 1e6;

function series(m: Measurement): string {
  return `${m.store} (${m.setting})`;
}

function valued(measurements: readonly Measurement[], workload: string): Measurement[] {
  return measurements.filter((m) => m.workload === workload && m.value !== null);
}

function commitsChart(measurements: readonly Measurement[], workload: string, file: string): Chart | null {
  const points: Point[] = valued(measurements, workload)
    .filter((m) => m.x !== undefined)
    .map((m) => ({ x: m.x!, y: m.value!, series: series(m) }));
  if (points.length === 0) return null;
  const title = `${workload}: throughput vs commits in flight`;
  return {
    file,
    title,
    spec: lineChartSpec({
      title,
      xTitle: 'commits in flight',
      yTitle: 'commits/s',
      points,
      logX: true,
      logY: true,
      xFormat: ',.0f',
    }),
  };
}

function latencyChart(measurements: readonly Measurement[]): Chart | null {
  const bars = valued(measurements, 'durable commits')
    .filter((m) => m.x === LATENCY_IN_FLIGHT && m.p50Ms !== undefined)
    .flatMap((m) => [
      { label: series(m), value: m.p50Ms!, series: 'p50' },
      { label: series(m), value: m.p99Ms!, series: 'p99' },
      { label: series(m), value: m.p999Ms!, series: 'p99.9' },
    ])
    .filter((b) => b.value > 0);
  if (bars.length === 0) return null;
  const title = `durable commit latency, ${LATENCY_IN_FLIGHT} in flight`;
  return {
    file: 'commit-latency.svg',
    title,
    spec: barChartSpec({ title, yTitle: 'ms (log scale)', bars, logY: true }),
  };
}

function ycsbChart(measurements: readonly Measurement[]): Chart | null {
  const bars = valued(measurements, 'ycsb').map((m) => ({ label: m.figure, value: m.value!, series: series(m) }));
  if (bars.length === 0) return null;
  const title = 'YCSB mixes: operations per second';
  return { file: 'ycsb.svg', title, spec: barChartSpec({ title, yTitle: 'ops/s (log scale)', bars, logY: true }) };
}

function recoveryChart(measurements: readonly Measurement[]): Chart | null {
  const points: Point[] = valued(measurements, 'recovery')
    .filter((m) => m.x !== undefined)
    .map((m) => ({ x: m.x!, y: m.value!, series: series(m) }));
  if (points.length === 0) return null;
  const title = 'recovery: seconds to reopen vs rows';
  return {
    file: 'recovery.svg',
    title,
    spec: lineChartSpec({ title, xTitle: 'rows', yTitle: 'seconds', points, xFormat: '~s' }),
  };
}

type Sample = Record<string, number>;

/** Disk or memory over time under updates, from the reclaim workload's series (one per key distribution, reclaim on or off). */
function overTimeChart(
  results: BenchResults,
  field: 'diskBytes' | 'memoryBytes',
  file: string,
  what: string,
): Chart | null {
  const reclaim = results.workloads.find((w) => w.workload === 'reclaim');
  if (reclaim?.series === undefined) return null;
  const points: Point[] = [];
  // Series are named '<keys>-on' / '<keys>-off'; every phase holds the same live data, drawn once.
  for (const [index, [name, samples]] of Object.entries(reclaim.series).entries()) {
    const [keys, reclaiming] = name.split('-');
    for (const s of samples as Sample[]) {
      if (s.seconds === undefined || s[field] === undefined) continue;
      points.push({ x: s.seconds, y: s[field]! / MB, series: `${what}, ${keys} keys, reclaim ${reclaiming}` });
      if (index === 0 && s.liveBytes !== undefined)
        points.push({ x: s.seconds, y: s.liveBytes / MB, series: 'live data' });
    }
  }
  if (points.length === 0) return null;
  const title = `${what} over time under updates (merge and cleaner on / off)`;
  return { file, title, spec: lineChartSpec({ title, xTitle: 'seconds', yTitle: 'MB', points }) };
}

export function chartsOf(results: BenchResults): Chart[] {
  const measurements = results.comparison?.measurements ?? [];
  const charts = [
    commitsChart(measurements, 'durable commits', 'durable-commits.svg'),
    commitsChart(measurements, 'delayed commits', 'delayed-commits.svg'),
    latencyChart(measurements),
    ycsbChart(measurements),
    recoveryChart(measurements),
    overTimeChart(results, 'diskBytes', 'disk-over-time.svg', 'disk'),
    overTimeChart(results, 'memoryBytes', 'memory-over-time.svg', 'memory'),
  ];
  return charts.filter((c): c is Chart => c !== null);
}

/** Renders every chart to `<dir>/charts/<file>`; returns the paths relative to `dir`. */
export async function writeCharts(charts: readonly Chart[], dir: string): Promise<string[]> {
  mkdirSync(join(dir, 'charts'), { recursive: true });
  const written: string[] = [];
  for (const chart of charts) {
    const relative = join('charts', chart.file);
    writeFileSync(join(dir, relative), await renderSvg(chart.spec));
    written.push(relative);
  }
  return written;
}
