/**
 * Which checkpoint file pairs to merge next (one merge at a time). Looking
 * from the oldest pair, the first of:
 *
 *   - a run of two or more adjacent mergeable pairs whose live rows fit one
 *     data file of the target size becomes one pair (fewer files, the
 *     tombstoned rows left behind);
 *   - a single pair whose tombstones are at least `deadFraction` of its
 *     rows is rewritten on its own;
 *   - three adjacent mergeable pairs whose live rows fit two data files
 *     become two pairs: one file fewer, where no two neighbours' live rows
 *     fit one file. Under skewed updates the oldest pairs hold mostly cold
 *     rows, each still more than half live (so never rewritten on its own)
 *     and too full to pair up, while holding much of the dead bytes on disk.
 *     It comes after the single rewrite: it writes two files to free one,
 *     and taken first it slowed the single rewrites under uniform updates.
 *
 * A pair is mergeable when it is ACTIVE and its closing is in a published
 * root (so it is read as of a checkpoint). Live bytes are estimated from
 * the data file's length and the share of its rows still live.
 */
import { FILE_HEADER_BYTES } from '../files/file_header.js';
import type { CfpEntry } from './root_format.js';

export interface MergePolicy {
  /** A run is merged when its live bytes fit this (the data file size) once, or for three pairs, twice. */
  targetBytes: number;
  /** A single pair is merged when tombstones / rows reaches this. */
  deadFraction: number;
}

/** The pairs to merge (ids, adjacent, oldest first), and into how many pairs. */
export interface MergePlan {
  sources: number[];
  targets: number;
}

/** Bytes of the data file's rows still live (estimated: the file's bytes times the live share). */
export function liveBytes(cfp: CfpEntry): number {
  if (cfp.rows === 0) return 0;
  return ((cfp.dataLength - FILE_HEADER_BYTES) * (cfp.rows - cfp.tombstones)) / cfp.rows;
}

/**
 * The merge to run next, or null. `cfps` are the pairs holding rows in
 * versionId order (adjacent ones next to each other); `mergeable` says
 * which may be merged now.
 */
export function chooseMerge(
  cfps: readonly CfpEntry[],
  mergeable: (cfp: CfpEntry) => boolean,
  policy: MergePolicy,
): MergePlan | null {
  let threeIntoTwo: number | null = null;
  let single: number | null = null;
  for (let start = 0; start < cfps.length; start++) {
    const first = cfps[start]!;
    if (!mergeable(first)) continue;
    let bytes = liveBytes(first);
    let end = start + 1;
    while (end < cfps.length && mergeable(cfps[end]!) && bytes + liveBytes(cfps[end]!) <= policy.targetBytes)
      bytes += liveBytes(cfps[end++]!);
    if (end - start >= 2) return plan(cfps, start, end, 1);
    if (threeIntoTwo === null && start + 3 <= cfps.length && cfps.slice(start, start + 3).every(mergeable)) {
      const three = cfps.slice(start, start + 3).reduce((sum, c) => sum + liveBytes(c), 0);
      if (three <= 2 * policy.targetBytes) threeIntoTwo = start;
    }
    if (single === null && first.rows > 0 && first.tombstones / first.rows >= policy.deadFraction) single = start;
  }
  if (single !== null) return plan(cfps, single, single + 1, 1);
  return threeIntoTwo === null ? null : plan(cfps, threeIntoTwo, threeIntoTwo + 3, 2);
}

function plan(cfps: readonly CfpEntry[], start: number, end: number, targets: number): MergePlan {
  return { sources: cfps.slice(start, end).map((c) => c.id), targets };
}
