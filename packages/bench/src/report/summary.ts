/**
 * The headline of a comparison: for every figure, each Tidemark row beside
 * the best other store of its class, with the ratio between them and the
 * share of the machine's limit. The report and docs/BENCHMARKS.md open
 * with it; the full tables follow.
 */
import { classOf, vsBestPeer, vsLimit, type Comparison } from '../compare/measurement.js';
import type { CellTable } from './comparison_table.js';
import { formatNumber, formatRatio } from './table.js';

const SUBJECT = 'tidemark';

export function summaryTable(comparison: Comparison): CellTable {
  const rows = comparison.measurements
    .filter((m) => m.store === SUBJECT)
    .map((m) => {
      const best = vsBestPeer(m, comparison.measurements);
      const limit = vsLimit(m, comparison.limits);
      return [
        m.workload,
        m.figure,
        `${m.setting} (${classOf(m)})`,
        m.value === null ? `failed: ${m.error ?? ''}` : `${formatNumber(m.value)} ${m.unit}`,
        best === null ? '-' : `${best.best.store} (${best.best.setting}) ${formatNumber(best.best.value)}`,
        best === null ? '-' : formatRatio(best.ratio),
        limit === null ? '-' : `${formatRatio(limit)} ${m.limit}`,
      ];
    });
  return {
    title: 'Tidemark against the best other store of its class',
    header: ['workload', 'figure', 'tidemark setting (class)', 'tidemark', 'best other store', 'x best', 'x limit'],
    rows,
    right: [false, false, false, true, false, true, true],
  };
}
