/**
 * Which checkpoint file pairs to merge next (one merge at a time). Looking
 * from the oldest pair:
 *
 *   - a run of two or more adjacent mergeable pairs whose live rows fit one
 *     data file of the target size becomes one pair (fewer files, the
 *     tombstoned rows left behind);
 *   - failing that, a single pair whose tombstones are at least
 *     `deadFraction` of its rows is rewritten on its own.
 *
 * A pair is mergeable when it is ACTIVE and its closing is in a published
 * root (so it is read as of a checkpoint). Live bytes are estimated from the
 * data file's length and the share of its rows still live.
 */
import { FILE_HEADER_BYTES } from '../files/file_header.js';
import type { CfpEntry } from './root_format.js';

export interface MergePolicy {
  /** A run is merged when its live bytes fit this (the data file size). */
  targetBytes: number;
  /** A single pair is merged when tombstones / rows reaches this. */
  deadFraction: number;
}

/** Bytes of the data file's rows still live (estimated: the file's bytes times the live share). */
export function liveBytes(cfp: CfpEntry): number {
  if (cfp.rows === 0) return 0;
  return ((cfp.dataLength - FILE_HEADER_BYTES) * (cfp.rows - cfp.tombstones)) / cfp.rows;
}

/**
 * The ids of the pairs to merge next, or null. `cfps` are the pairs holding
 * rows in versionId order (adjacent ones next to each other); `mergeable`
 * says which may be merged now.
 */
export function chooseMerge(cfps: readonly CfpEntry[], mergeable: (cfp: CfpEntry) => boolean, policy: MergePolicy): number[] | null {
  let single: number | null = null;
  for (let start = 0; start < cfps.length; start++) {
    const first = cfps[start]!;
    if (!mergeable(first)) continue;
    let bytes = liveBytes(first);
    let end = start + 1;
    while (end < cfps.length && mergeable(cfps[end]!) && bytes + liveBytes(cfps[end]!) <= policy.targetBytes) bytes += liveBytes(cfps[end++]!);
    if (end - start >= 2) return cfps.slice(start, end).map((c) => c.id);
    if (single === null && first.rows > 0 && first.tombstones / first.rows >= policy.deadFraction) single = first.id;
  }
  return single === null ? null : [single];
}
