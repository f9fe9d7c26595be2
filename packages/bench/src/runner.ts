/**
 * Runs a bench in this process: the peers side by side (the comparison),
 * then Tidemark's own workloads one after another, printing progress and
 * each table as it goes; then writes the results folder (`results.json`,
 * `report.md`, `charts/*.svg`). It reports; it never judges a timing (a
 * missed target is a line in the table, not a failure).
 *
 * Which runs: no name -> the comparison and every workload, at the quick
 * size (`full` for the full size); names -> those workloads at full size
 * (`quick` for the quick size), and the comparison only if 'peers' is named.
 *
 * Options in three steps: RunOptions (what callers pass) ->
 * validateRunOptions() (messages name the option, `options.rows` or `--rows`)
 * -> FilledRunOptions.
 */
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { FULL, QUICK, runComparison, type CompareSizes, type Comparison } from './compare/index.js';
import { DEFAULT_SEED, MAX_OPS, MAX_ROWS, MAX_SECONDS } from './constants.js';
import { warnIfNoGc } from './measure.js';
import { findWorkload, workloads } from './registry.js';
import { chartsOf, writeCharts } from './report/chart_set.js';
import { comparisonTables, limitsTable, storesTable } from './report/comparison_table.js';
import { summaryTable } from './report/summary.js';
import { defaultOutDir, resultDocument, type ResultDocument } from './report/json.js';
import { reportMarkdown, writeReport } from './report/markdown.js';
import { benchResults, writeResults, type BenchResults, type RunMode } from './report/results.js';
import { alignedLines, formatTable } from './report/table.js';
import type { Workload, WorkloadParams } from './workload.js';

/** The name that runs the side-by-side comparison of the peers. */
export const PEERS_NAME = 'peers';

export interface RunOptions {
  /** Workloads to run by name ('peers' for the comparison), at full size; none: the comparison and every workload. */
  names?: string[];
  /** With no names: everything at full size instead of quick. */
  full?: boolean;
  /** With names: the quick size instead of full. */
  quick?: boolean;
  /** The comparison's sizes, instead of QUICK or FULL (tests use smaller ones). */
  compareSizes?: CompareSizes;
  /** The command line, recorded in results.json. */
  args?: string[];
  /** Rows for every workload run, instead of its own default. */
  rows?: number;
  /** Operations for every workload run, instead of its own default. */
  ops?: number;
  /** Time limit of each measured loop, in seconds. */
  seconds?: number;
  /** Folder for results.json, report.md and charts; default bench-results/<YYYY-MM-DD> under the current directory. */
  outDir?: string;
  /** Existing folder under which workloads that write files make their temporary folders; default the OS temp folder. */
  dir?: string;
  /** Whether to write the results folder at all. Default true. */
  write?: boolean;
  seed?: number;
  /** Where progress and tables go. Default console.log. */
  log?: (line: string) => void;
}

export interface FilledRunOptions {
  readonly workloads: readonly Workload[];
  /** The comparison's sizes; null: no comparison. */
  readonly compare: CompareSizes | null;
  readonly mode: RunMode;
  readonly args: readonly string[];
  readonly quick: boolean;
  readonly rows: number | null;
  readonly ops: number | null;
  readonly seconds: number | null;
  readonly outDir: string | null;
  readonly dir: string | null;
  readonly write: boolean;
  readonly seed: number;
  readonly log: (line: string) => void;
}

/** A user's mistake in the options: the CLI prints its message and usage. */
export class UsageError extends Error {}

function integerIn(value: number | undefined, name: string, min: number, max: number): number | null {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${name} must be an integer from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`,
    );
  }
  return value;
}

/** The folder as an absolute path, once it is known to exist and to be a folder. */
function directoryIn(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '') throw new UsageError(`${name} must be a non-empty path`);
  const stats = statSync(value, { throwIfNoEntry: false });
  if (stats === undefined || !stats.isDirectory())
    throw new UsageError(`${name} must be an existing directory, not "${value}"`);
  return resolve(value);
}

export function validateRunOptions(options: RunOptions, prefix = 'options.'): FilledRunOptions {
  const allNames = options.names ?? [];
  const names = allNames.filter((name) => name !== PEERS_NAME);
  const named = allNames.length > 0;
  if (named && options.full === true)
    throw new UsageError(
      `${prefix}full applies to a run of everything (no names): named workloads run at full size already`,
    );
  if (!named && options.quick === true)
    throw new UsageError(`${prefix}quick applies to named workloads: a run of everything is quick already`);
  const quick = named ? options.quick === true : options.full !== true;
  const chosen = names.map((name) => {
    const workload = findWorkload(name);
    if (workload === undefined) {
      throw new UsageError(
        `unknown workload "${name}"; known: ${[PEERS_NAME, ...workloads.map((w) => w.name)].join(', ')}`,
      );
    }
    return workload;
  });
  const seconds = options.seconds;
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0 && seconds <= MAX_SECONDS)) {
    throw new UsageError(`${prefix}seconds must be a number above 0 and at most ${MAX_SECONDS}`);
  }
  const withComparison = !named || allNames.includes(PEERS_NAME);
  return {
    workloads: named ? chosen : workloads,
    compare: withComparison ? (options.compareSizes ?? (quick ? QUICK : FULL)) : null,
    mode: named ? 'named' : quick ? 'quick' : 'full',
    args: options.args ?? [],
    quick,
    rows: integerIn(options.rows, `${prefix}rows`, 1, MAX_ROWS),
    ops: integerIn(options.ops, `${prefix}ops`, 1, MAX_OPS),
    seconds: seconds ?? null,
    outDir: options.outDir ?? null,
    dir: directoryIn(options.dir, `${prefix}dir`),
    write: options.write ?? true,
    seed: integerIn(options.seed, `${prefix}seed`, 0, 2 ** 32 - 1) ?? DEFAULT_SEED,
    log: options.log ?? ((line: string) => console.log(line)),
  };
}

/** A workload's parameters: its full or quick sizes, overridden by the options. */
export function resolveParams(workload: Workload, options: FilledRunOptions): WorkloadParams {
  const sizes = options.quick ? workload.sizes.quick : workload.sizes.full;
  return {
    rows: options.rows ?? sizes.rows,
    ops: options.ops ?? sizes.ops,
    secondsLimit: options.seconds ?? sizes.seconds ?? null,
    seed: options.seed,
    dir: options.dir,
  };
}

function title(workload: Workload, params: WorkloadParams): string {
  const sizes: string[] = [];
  if (workload.sizes.full.rows > 0) sizes.push(`rows=${params.rows.toLocaleString('en-US')}`);
  if (workload.sizes.full.ops > 0) sizes.push(`ops=${params.ops.toLocaleString('en-US')}`);
  if (params.secondsLimit !== null) sizes.push(`limit=${params.secondsLimit}s per loop`);
  const baseline = workload.baseline ?? 'Map<number, object>';
  return `== ${workload.name}: ${sizes.join(', ')}; baseline = ${baseline}, ratio = tidemark / baseline`;
}

/** Runs one workload and prints its table. */
export async function runWorkload(workload: Workload, options: FilledRunOptions): Promise<ResultDocument> {
  const params = resolveParams(workload, options);
  const startedAt = new Date();
  const result = await workload.run(params, options.log);
  const doc = resultDocument(workload, params, result, startedAt);
  options.log('');
  options.log(formatTable(title(workload, params), result.figures, result.notes));
  options.log('');
  return doc;
}

function printComparison(comparison: Comparison, log: (line: string) => void): void {
  for (const t of [
    limitsTable(comparison.limits),
    storesTable(comparison),
    ...comparisonTables(comparison),
    summaryTable(comparison),
  ]) {
    log('');
    log(`== ${t.title}`);
    for (const line of alignedLines(t.header, t.rows, t.right)) log(line);
  }
  log('');
  for (const note of comparison.notes) log(`  ${note}`);
  log('');
}

/** Writes results.json, the charts and report.md into `dir`; returns what it wrote. */
export async function writeResultsFolder(results: BenchResults, dir: string): Promise<string[]> {
  const json = writeResults(results, dir);
  const charts = chartsOf(results);
  const paths = await writeCharts(charts, dir);
  const report = writeReport(
    reportMarkdown(
      results,
      charts.map((c, i) => ({ ...c, path: paths[i]! })),
    ),
    dir,
  );
  return [json, report, ...paths.map((p) => resolve(dir, p))];
}

/** Runs the comparison and the chosen workloads in order, with progress; writes the results folder unless told not to. */
export async function runBench(options: RunOptions = {}, prefix?: string): Promise<BenchResults> {
  const filled = validateRunOptions(options, prefix);
  const started = performance.now();
  const startedAt = new Date();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  const log = (line: string): void => filled.log(line === '' ? '' : `[${elapsed()}] ${line}`);
  const steps = filled.workloads.length + (filled.compare === null ? 0 : 1);
  let step = 0;
  warnIfNoGc(filled.log);
  log(
    `${filled.mode} run: ${filled.compare === null ? '' : 'the peers side by side, then '}${filled.workloads.map((w) => w.name).join(', ') || 'no workload'}`,
  );
  let comparison: Comparison | null = null;
  if (filled.compare !== null) {
    log(`(${++step}/${steps}) peers side by side`);
    comparison = await runComparison({ sizes: filled.compare, dir: filled.dir ?? tmpdir(), seed: filled.seed, log });
    printComparison(comparison, filled.log);
  }
  const docs: ResultDocument[] = [];
  const own: FilledRunOptions = { ...filled, log };
  for (const workload of filled.workloads) {
    log(`(${++step}/${steps}) ${workload.name}: ${workload.description}`);
    docs.push(await runWorkload(workload, own));
  }
  const results = benchResults(filled.mode, [...filled.args], startedAt, comparison, docs);
  if (filled.write) {
    const written = await writeResultsFolder(results, filled.outDir ?? defaultOutDir(startedAt));
    filled.log(`done in ${elapsed()}; wrote:`);
    for (const path of written) filled.log(`  ${path}`);
  }
  return results;
}
