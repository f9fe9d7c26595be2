/**
 * Runs workloads one after another in this process: resolves each one's
 * parameters, prints its table and writes its JSON. It reports; it never
 * judges a timing (a missed target is a line in the table, not a failure).
 *
 * Options in three steps: RunOptions (what callers pass) ->
 * validateRunOptions() (messages name the option, `options.rows` or `--rows`)
 * -> FilledRunOptions.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_SEED, MAX_OPS, MAX_ROWS, MAX_SECONDS } from './constants.js';
import { warnIfNoGc } from './measure.js';
import { findWorkload, workloads } from './registry.js';
import { defaultOutDir, resultDocument, writeResult, type ResultDocument } from './report/json.js';
import { formatTable } from './report/table.js';
import type { Workload, WorkloadParams } from './workload.js';

export interface RunOptions {
  /** Workloads to run by name, at full size; none: every workload at quick size. */
  names?: string[];
  /** Rows for every workload run, instead of its own default. */
  rows?: number;
  /** Operations for every workload run, instead of its own default. */
  ops?: number;
  /** Time limit of each measured loop, in seconds. */
  seconds?: number;
  /** Folder for the JSON results; default bench-results/<YYYY-MM-DD> under the current directory. */
  outDir?: string;
  /** Existing folder under which workloads that write files make their temporary folders; default the OS temp folder. */
  dir?: string;
  /** Whether to write JSON at all. Default true. */
  write?: boolean;
  seed?: number;
  /** Where progress and tables go. Default console.log. */
  log?: (line: string) => void;
}

export interface FilledRunOptions {
  readonly workloads: readonly Workload[];
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
    throw new UsageError(`${name} must be an integer from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`);
  }
  return value;
}

/** The folder as an absolute path, once it is known to exist and to be a folder. */
function directoryIn(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '') throw new UsageError(`${name} must be a non-empty path`);
  const stats = statSync(value, { throwIfNoEntry: false });
  if (stats === undefined || !stats.isDirectory()) throw new UsageError(`${name} must be an existing directory, not "${value}"`);
  return resolve(value);
}

export function validateRunOptions(options: RunOptions, prefix = 'options.'): FilledRunOptions {
  const names = options.names ?? [];
  const chosen = names.map((name) => {
    const workload = findWorkload(name);
    if (workload === undefined) {
      throw new UsageError(`unknown workload "${name}"; known: ${workloads.map((w) => w.name).join(', ')}`);
    }
    return workload;
  });
  const seconds = options.seconds;
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0 && seconds <= MAX_SECONDS)) {
    throw new UsageError(`${prefix}seconds must be a number above 0 and at most ${MAX_SECONDS}`);
  }
  return {
    workloads: chosen.length > 0 ? chosen : workloads,
    quick: chosen.length === 0,
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

/** Runs one workload; prints its table and, unless told not to, writes its JSON. */
export async function runWorkload(workload: Workload, options: FilledRunOptions): Promise<ResultDocument> {
  const params = resolveParams(workload, options);
  const startedAt = new Date();
  const result = await workload.run(params, options.log);
  const doc = resultDocument(workload, params, result, startedAt);
  options.log('');
  options.log(formatTable(title(workload, params), result.figures, result.notes));
  if (options.write) {
    const path = writeResult(doc, options.outDir ?? defaultOutDir(startedAt));
    options.log(`  -> ${path}`);
  }
  options.log('');
  return doc;
}

/** Runs the chosen workloads (every one, quick, when none is named) in order. */
export async function runBench(options: RunOptions = {}, prefix?: string): Promise<ResultDocument[]> {
  const filled = validateRunOptions(options, prefix);
  warnIfNoGc(filled.log);
  if (filled.quick) filled.log('No workload named: running every workload at its quick size (name one for its full size).');
  const docs: ResultDocument[] = [];
  for (const workload of filled.workloads) docs.push(await runWorkload(workload, filled));
  return docs;
}
