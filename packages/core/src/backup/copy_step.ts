/**
 * The file copies a backup is made of, each one step a worker (or the CLI)
 * runs: a checkpoint file's valid prefix (a closed data file, which never
 * changes, hard-linked instead when the disk allows), and a whole WAL
 * segment, whose header is read through the same descriptor before and
 * after the copy, so a segment recycled under the copy (renamed to a new
 * sequence and overwritten) is caught. A file gone (a merge or a newer
 * checkpoint let it go) or recycled is BackupRetry: the backup starts again
 * from the newest root. Every copy is synced.
 */
import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  linkSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { ErrorCode, TidemarkError } from '../errors.js';
import { DEFAULT_FILE_MODE } from '../files/file_layer.js';
import { FILE_HEADER_BYTES } from '../files/file_header.js';
import { decodeSegmentHeader } from '../log/wal_format.js';

/** `pace`: bytes a second the copy may read and write at most (Infinity: as fast as the disk goes). */
export type CopyStep =
  /** A pair file: its first `length` bytes, the copy then extended with zeros to `size`; `link` when it never changes. */
  | { kind: 'pair'; from: string; to: string; length: number; size: number; link: boolean; pace: number }
  /** WAL segment `seq`, whole. */
  | { kind: 'segment'; from: string; to: string; seq: number; pace: number };

/** The files changed under the copy: start again from the newest root. */
export class BackupRetry extends Error {}

const CHUNK_BYTES = 1 << 20;

/** Runs one step; returns the bytes it copied (0 for a link). */
export function runCopyStep(step: CopyStep, fileMode = DEFAULT_FILE_MODE): number {
  if (step.kind === 'pair' && step.link) {
    try {
      linkSync(step.from, step.to);
      return 0;
    } catch (error) {
      if (errno(error) === 'ENOENT') throw new BackupRetry(`${step.from} is gone`);
      // Another disk, or links not allowed: copy it.
    }
  }
  const source = openSource(step.from);
  try {
    if (step.kind === 'segment') return copySegment(source, step, fileMode);
    return copyPrefix(source, step.from, step.to, step.length, step.size, fileMode, step.pace);
  } finally {
    closeSync(source);
  }
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function openSource(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY);
  } catch (error) {
    if (errno(error) === 'ENOENT') throw new BackupRetry(`${path} is gone`);
    throw ioError(path, error);
  }
}

function ioError(path: string, error: unknown): TidemarkError {
  const code = errno(error) === 'ENOSPC' ? ErrorCode.DISK_FULL : ErrorCode.IO_ERROR;
  return new TidemarkError(code, `${path}: ${(error as Error).message}`, { cause: error });
}

/** Sleeps this thread until `done` bytes are due at `pace` bytes a second since `started`. */
function keepPace(done: number, started: number, pace: number): void {
  const wait = started + (done / pace) * 1000 - performance.now();
  if (wait > 0) Atomics.wait(SLEEPER, 0, 0, wait);
}
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

function copyPrefix(
  source: number,
  from: string,
  to: string,
  length: number,
  size: number,
  mode: number,
  pace: number,
): number {
  const target = openSync(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  const started = performance.now();
  try {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(length, 1)));
    for (let done = 0; done < length; ) {
      const n = readSync(source, buffer, 0, Math.min(buffer.length, length - done), done);
      if (n <= 0)
        throw new TidemarkError(
          ErrorCode.CORRUPT,
          `${from} holds ${done} bytes, fewer than the ${length} its root names`,
        );
      for (let w = 0; w < n; ) w += writeSync(target, buffer, w, n - w, done + w);
      done += n;
      if (pace < Number.POSITIVE_INFINITY) keepPace(done, started, pace);
    }
    if (size > length) ftruncateSync(target, size);
    fdatasyncSync(target);
    return length;
  } catch (error) {
    if (error instanceof TidemarkError) throw error;
    throw ioError(to, error);
  } finally {
    closeSync(target);
  }
}

/** The segment number a segment's header names, read through `fd`; BackupRetry if it is not `seq`. */
function checkHeader(fd: number, path: string, seq: number): void {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  if (readSync(fd, header, 0, FILE_HEADER_BYTES, 0) !== FILE_HEADER_BYTES)
    throw new BackupRetry(`${path} is being made`);
  if (decodeSegmentHeader(header, path).seq !== seq) throw new BackupRetry(`${path} was recycled`);
}

function copySegment(source: number, step: Extract<CopyStep, { kind: 'segment' }>, mode: number): number {
  checkHeader(source, step.from, step.seq);
  const size = fstatSync(source).size;
  const bytes = copyPrefix(source, step.from, step.to, size, size, mode, step.pace);
  checkHeader(source, step.from, step.seq); // recycled while it was copied: the copy mixes two uses
  return bytes;
}
