/**
 * When the newest root does not verify, open() falls back to the newest
 * older root that does. That root may need files the engine no longer
 * keeps: once a newer root is published, the WAL segments before its
 * position are recycled and merged pairs are removed. Open then fails on
 * a missing file, and the true cause is the damaged newer root, not the
 * missing file; this module rewrites such an error to say so.
 */
import { basename } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { NewestRoot } from '../checkpoint/root_format.js';

const MISSING_SEGMENT = /WAL segment (\d+) is missing/;
const ROOT_SEGMENT_MISSING = /the WAL segment the root file needs is missing/;
const MISSING_PAIR_FILE = /([^/\\\s:]+): the (data|delta) file named by the root is missing/;

/**
 * `error` as it should reach the user: unchanged unless a newer root was
 * skipped and `error` is a missing file the chosen root needs; then a
 * CORRUPT error that names the damaged root first (so tools that take the
 * first file a message names point at it), the original as its cause.
 */
export function blameSkippedRoot(error: unknown, newest: NewestRoot): unknown {
  if (newest.root === null || newest.file === null || newest.skipped.length === 0) return error;
  if (!(error instanceof TidemarkError) || error.code !== ErrorCode.CORRUPT) return error;
  const chosen = basename(newest.file);
  const segment =
    MISSING_SEGMENT.exec(error.message)?.[1] ??
    (ROOT_SEGMENT_MISSING.test(error.message) ? String(newest.root.wal.seq) : null);
  const pairFile = MISSING_PAIR_FILE.exec(error.message)?.[1] ?? null;
  let needs: string;
  if (segment !== null)
    needs = `the older ${chosen} needs WAL segment ${segment}, which is missing: it was recycled after the newer root was written`;
  else if (pairFile !== null)
    needs = `the older ${chosen} needs ${pairFile}, which is missing: it was merged away after the newer root was written`;
  else return error;
  const damaged = newest.skipped.map((s) => `${s.file} is damaged (${reasonOf(s.file, s.reason)})`).join('; ');
  return new TidemarkError(ErrorCode.CORRUPT, `${damaged}; ${needs}`, { cause: error });
}

/** A root's reason without the path it begins with (the message names the file already). */
function reasonOf(file: string, reason: string): string {
  return reason.startsWith(`${file}: `) ? reason.slice(file.length + 2) : reason;
}
