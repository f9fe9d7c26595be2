/**
 * The document a run writes as `results.json`: the machine, the mode, the
 * side-by-side comparison (limits, stores, measurements) and the Tidemark
 * workloads' own figures. `--compare` reads two of them back, so the shape
 * is versioned and checked on reading.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Comparison } from '../compare/measurement.js';
import { machineInfo, type MachineInfo, type ResultDocument } from './json.js';

export const RESULTS_FORMAT = 'tidemark-bench-results';
export const RESULTS_VERSION = 1;
export const RESULTS_FILE = 'results.json';

export type RunMode = 'quick' | 'full' | 'named';

export interface BenchResults {
  format: typeof RESULTS_FORMAT;
  version: number;
  mode: RunMode;
  /** The command line's arguments. */
  args: string[];
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** The peers side by side; null when the run named workloads only. */
  comparison: Comparison | null;
  /** Tidemark's own workloads, each beside its baseline. */
  workloads: ResultDocument[];
}

export function benchResults(
  mode: RunMode,
  args: string[],
  startedAt: Date,
  comparison: Comparison | null,
  workloads: ResultDocument[],
): BenchResults {
  return {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    mode,
    args,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineInfo(),
    comparison,
    workloads,
  };
}

/** Writes `results.json` into `dir` (made if missing); returns its path. */
export function writeResults(results: BenchResults, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, RESULTS_FILE);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

/** The error of a file that is not a results document this version reads. */
export class ResultsFileError extends Error {
  readonly code = 'TM_BENCH_RESULTS';
}

/** Reads a `results.json` back; throws ResultsFileError naming the file when it is not one. */
export function readResults(path: string): BenchResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ResultsFileError(`${path}: ${(error as Error).message}`);
  }
  const doc = parsed as Partial<BenchResults> | null;
  if (doc === null || typeof doc !== 'object' || doc.format !== RESULTS_FORMAT) {
    throw new ResultsFileError(
      `${path}: not a ${RESULTS_FILE} written by the bench harness (no "format": "${RESULTS_FORMAT}")`,
    );
  }
  if (doc.version !== RESULTS_VERSION)
    throw new ResultsFileError(
      `${path}: results version ${String(doc.version)}, this harness reads version ${RESULTS_VERSION}`,
    );
  if (!Array.isArray(doc.workloads) || (doc.comparison !== null && typeof doc.comparison !== 'object')) {
    throw new ResultsFileError(`${path}: "workloads" or "comparison" is missing or malformed`);
  }
  return doc as BenchResults;
}
