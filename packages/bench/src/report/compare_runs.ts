/**
 * `pnpm bench --compare old.json new.json`: every figure both runs have,
 * matched by name, with its change, and whether that is faster (better) or
 * slower (worse) beyond a noise threshold. Comparison rows match on
 * workload, figure, store and setting; Tidemark's workload figures on
 * workload and figure (the Tidemark column). Figures only one run has are
 * listed apart.
 */
import type { Measurement } from '../compare/measurement.js';
import type { BenchResults } from './results.js';
import { alignedLines, formatNumber } from './table.js';

/** A change smaller than this share is reported as unchanged: run-to-run noise is about this large here. */
export const NOISE = 0.05;

export interface Change {
  key: string;
  unit: string;
  better: 'higher' | 'lower';
  old: number;
  new: number;
  /** new / old - 1. */
  change: number;
  verdict: 'better' | 'worse' | 'same';
}

interface Keyed {
  key: string;
  unit: string;
  better: 'higher' | 'lower';
  value: number | null;
}

/** Higher is better for rates (a unit per second), lower for everything else (seconds, bytes, ms). */
export function betterOf(unit: string): 'higher' | 'lower' {
  return unit.endsWith('/s') ? 'higher' : 'lower';
}

function keyed(results: BenchResults): Map<string, Keyed> {
  const out = new Map<string, Keyed>();
  for (const m of results.comparison?.measurements ?? ([] as Measurement[])) {
    const key = `${m.workload} | ${m.figure} | ${m.store} (${m.setting})`;
    out.set(key, { key, unit: m.unit, better: m.better, value: m.value });
  }
  for (const w of results.workloads) {
    for (const f of w.figures) {
      const key = `${w.workload} | ${f.name} | tidemark`;
      out.set(key, { key, unit: f.unit, better: betterOf(f.unit), value: f.tidemark });
    }
  }
  return out;
}

export interface RunComparison {
  changes: Change[];
  onlyOld: string[];
  onlyNew: string[];
  /** Why the two runs are not like for like (another mode, machine or Node), printed first. */
  warnings: string[];
}

function differences(a: BenchResults, b: BenchResults): string[] {
  const out: string[] = [];
  if (a.mode !== b.mode)
    out.push(
      `the runs are of different sizes (${a.mode} and ${b.mode}): figures measured at different sizes are not comparable`,
    );
  const ma = a.machine;
  const mb = b.machine;
  if (ma.cpuModel !== mb.cpuModel || ma.cores !== mb.cores || ma.totalMemoryBytes !== mb.totalMemoryBytes) {
    out.push(
      `the runs are from different machines (${ma.cpuModel}, ${ma.cores} cores and ${mb.cpuModel}, ${mb.cores} cores)`,
    );
  }
  if (ma.node !== mb.node) out.push(`the runs used different Node versions (${ma.node} and ${mb.node})`);
  return out;
}

export function compareRuns(oldRun: BenchResults, newRun: BenchResults): RunComparison {
  const before = keyed(oldRun);
  const after = keyed(newRun);
  const changes: Change[] = [];
  for (const [key, a] of after) {
    const b = before.get(key);
    if (b === undefined || a.value === null || b.value === null || b.value === 0) continue;
    const change = a.value / b.value - 1;
    const improved = a.better === 'higher' ? change > 0 : change < 0;
    const verdict = Math.abs(change) < NOISE ? 'same' : improved ? 'better' : 'worse';
    changes.push({ key, unit: a.unit, better: a.better, old: b.value, new: a.value, change, verdict });
  }
  return {
    changes,
    onlyOld: [...before.keys()].filter((k) => !after.has(k)),
    onlyNew: [...after.keys()].filter((k) => !before.has(k)),
    warnings: differences(oldRun, newRun),
  };
}

function sign(change: number): string {
  return `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%`;
}

/** The comparison as text: better first, then worse, then a count of the unchanged. */
export function formatRunComparison(c: RunComparison, oldName: string, newName: string): string {
  const worded = (v: Change): string =>
    v.verdict === 'same' ? 'same' : v.better === 'higher' ? (v.verdict === 'better' ? 'faster' : 'slower') : v.verdict;
  const order = { better: 0, worse: 1, same: 2 } as const;
  const sorted = [...c.changes].sort(
    (x, y) => order[x.verdict] - order[y.verdict] || Math.abs(y.change) - Math.abs(x.change),
  );
  const rows = sorted
    .filter((v) => v.verdict !== 'same')
    .map((v) => [v.key, v.unit, formatNumber(v.old), formatNumber(v.new), sign(v.change), worded(v)]);
  const count = (verdict: Change['verdict']): number => c.changes.filter((v) => v.verdict === verdict).length;
  const lines = [
    `compare: ${oldName} -> ${newName}`,
    ...c.warnings.map((w) => `WARNING: ${w}`),
    `${count('better')} better, ${count('worse')} worse, ${count('same')} within ${(NOISE * 100).toFixed(0)}% (not listed)`,
  ];
  if (rows.length > 0)
    lines.push(
      '',
      ...alignedLines(['figure', 'unit', 'old', 'new', 'change', ''], rows, [false, false, true, true, true, false]),
    );
  if (c.onlyOld.length > 0) lines.push('', `only in ${oldName}: ${c.onlyOld.length} figures`);
  if (c.onlyNew.length > 0) lines.push('', `only in ${newName}: ${c.onlyNew.length} figures`);
  return lines.join('\n');
}
