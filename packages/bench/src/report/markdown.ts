/**
 * `report.md`: what a person reads after a run. The machine and the mode,
 * the limits, the stores with their guarantees (and the skipped ones with
 * why), every chart, one table per comparison workload, then Tidemark's own
 * workloads beside their baselines and targets.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparisonTables, limitsTable, storesTable, type CellTable } from './comparison_table.js';
import { summaryTable } from './summary.js';
import type { Chart } from './chart_set.js';
import type { BenchResults } from './results.js';
import { figureCells, markdownLines } from './table.js';

export const REPORT_FILE = 'report.md';

function table(t: CellTable, level = '###'): string[] {
  return [`${level} ${t.title}`, '', ...markdownLines(t.header, t.rows, t.right), ''];
}

export function reportMarkdown(results: BenchResults, charts: ReadonlyArray<Chart & { path: string }>): string {
  const m = results.machine;
  const lines: string[] = [
    `# Tidemark bench: ${results.mode} run, ${results.startedAt.slice(0, 10)}`,
    '',
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform} ${m.osRelease}`,
    `- Node ${m.node} (V8 ${m.v8}), memory after forced GC: ${m.gcExposed ? 'yes' : 'no (run node with --expose-gc)'}`,
    `- Started ${results.startedAt}, finished ${results.finishedAt}; arguments: \`${results.args.join(' ') || '(none)'}\``,
    '',
  ];
  const c = results.comparison;
  if (c !== null) {
    lines.push(
      '## Side by side',
      '',
      '"x best other" is this row against the best other store of the same class (its durability class; for recovery, memory and disk, whether the store loads every row at open or reads pages on demand)',
      '(above 1.00x it beats every one of them; for seconds and bytes, lower is better and the ratio is inverted so that above 1.00x still means better).',
      '"x limit" is the figure as a share of the machine limit named after it. "loop p99" is the main thread\'s event-loop delay while the figure ran.',
      '',
      ...table(summaryTable(c)),
      ...table(limitsTable(c.limits)),
      ...table(storesTable(c)),
      ...c.notes.map((n) => `- ${n}`),
      '',
    );
  }
  if (charts.length > 0) {
    lines.push('## Charts', '');
    for (const chart of charts) lines.push(`### ${chart.title}`, '', `![${chart.title}](${chart.path})`, '');
  }
  if (c !== null) {
    lines.push('## Figures', '');
    for (const t of comparisonTables(c)) lines.push(...table(t));
  }
  if (results.workloads.length > 0) {
    lines.push('## Tidemark workloads (each beside its baseline)', '');
    for (const w of results.workloads) {
      const cells = figureCells(w.figures);
      lines.push(
        `### ${w.workload}: ${w.description}`,
        '',
        ...markdownLines(cells.header, cells.rows, cells.right),
        '',
        ...w.notes.map((n) => `- ${n}`),
        '',
      );
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export function writeReport(text: string, dir: string): string {
  const path = join(dir, REPORT_FILE);
  writeFileSync(path, text);
  return path;
}
