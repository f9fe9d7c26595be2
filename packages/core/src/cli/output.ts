/**
 * Where a command writes, and how it formats: aligned tables, byte sizes,
 * grouped numbers. Commands write results to `out` and progress and
 * problems to `err`, so `tidemark export ... > rows.ndjson` stays clean.
 */
import { whyNoDatabase } from '../database_dir.js';
import { CliErrorCode, type ErrorCode } from '../errors.js';
import { NodeFileLayer } from '../files/file_layer.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether `err` is a terminal (progress bars are drawn only there). */
  readonly errIsTty: boolean;
  /** A writable stream for bulk output (export); process.stdout by default. */
  readonly stdout: NodeJS.WritableStream;
}

export function processIo(): Io {
  return {
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    errIsTty: process.stderr.isTTY === true,
    stdout: process.stdout,
  };
}

/** A user's mistake or a refusal: printed as `tidemark: <message> [<code>]` with no stack, exit status 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode | CliErrorCode,
  ) {
    super(message);
  }
}

/**
 * Refuses a path that holds no database (database_dir.ts says what makes
 * one), so a mistyped path is one line instead of a new, empty database
 * (open() makes the folder it is given) or a list of "problems".
 */
export function existingDatabase(dir: string): string {
  const why = whyNoDatabase(new NodeFileLayer(), dir);
  if (why !== null) throw new CliError(why, CliErrorCode.NO_DATABASE);
  return dir;
}

export function num(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : value.toLocaleString('en-US');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  let v = value;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Rows of cells as aligned lines, a header and a rule first; columns listed in `right` align right. */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  right: ReadonlySet<number> = new Set(),
): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}
