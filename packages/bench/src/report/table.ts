/**
 * A workload's figures as an aligned text table: figure, unit, Tidemark,
 * baseline, ratio (Tidemark / baseline), target, and whether it was met.
 * ASCII only, so it pastes into notes and logs unchanged.
 */
import { ratioOf, targetMet, type Figure, type Target } from '../workload.js';

const HEADER = ['figure', 'unit', 'tidemark', 'baseline', 'ratio', 'target', 'met?'];
/** Columns aligned right (numbers); the others align left. */
const RIGHT = [false, false, true, true, true, false, false];

/** A figure's value: grouped integers when large, more decimals when small. */
export function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '-';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(3);
}

/**
 * A ratio to two decimals; to three where two would read as the ratio
 * target's own value (0.895 beside ">= 0.90x" would show as 0.90x and NO).
 */
export function formatRatio(ratio: number | null, target: Target | null = null): string {
  if (ratio === null) return '-';
  const two = ratio.toFixed(2);
  if (target !== null && target.on === 'ratio' && ratio !== target.value && two === target.value.toFixed(2))
    return `${ratio.toFixed(3)}x`;
  return `${two}x`;
}

export function formatTarget(target: Target | null): string {
  if (target === null) return '-';
  const sign = target.compare === 'atLeast' ? '>=' : '<=';
  if (target.on === 'ratio') return `${sign} ${target.value.toFixed(2)}x baseline`;
  return `${sign} ${Number.isInteger(target.value) ? target.value.toLocaleString('en-US') : formatNumber(target.value)}`;
}

function formatMet(met: boolean | null): string {
  if (met === null) return '-';
  return met ? 'yes' : 'NO';
}

function cells(figure: Figure): string[] {
  return [
    figure.name,
    figure.unit,
    formatNumber(figure.tidemark),
    formatNumber(figure.baseline),
    formatRatio(ratioOf(figure), figure.target),
    formatTarget(figure.target),
    formatMet(targetMet(figure)),
  ];
}

function pad(text: string, width: number, right: boolean): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** Rows of cells as aligned lines: the header, a rule, then the rows; `right[c]` aligns column c right. */
export function alignedLines(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  right: readonly boolean[],
): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => pad(cell, widths[c]!, right[c] ?? false))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)];
}

/** Rows of cells as a Markdown table; `right[c]` aligns column c right. */
export function markdownLines(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  right: readonly boolean[],
): string[] {
  const escapeCell = (cell: string): string => cell.replace(/\|/g, '\\|');
  const line = (row: readonly string[]): string => `| ${row.map(escapeCell).join(' | ')} |`;
  const rule = `|${header.map((_, c) => ((right[c] ?? false) ? ' ---: ' : ' --- ')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)];
}

/** A workload's figures as cells: the header, then one row per figure. */
export function figureCells(figures: readonly Figure[]): { header: string[]; rows: string[][]; right: boolean[] } {
  return { header: HEADER, rows: figures.map(cells), right: RIGHT };
}

/** The table as lines of text, a title line first and the notes last. */
export function formatTable(title: string, figures: Figure[], notes: string[] = []): string {
  const body = alignedLines(HEADER, figures.map(cells), RIGHT);
  const foot = notes.map((note) => `  ${note}`);
  return [title, ...body, ...(foot.length > 0 ? ['', ...foot] : [])].join('\n');
}
