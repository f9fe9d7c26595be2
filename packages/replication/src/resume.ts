/**
 * Where a replica that applied up to `appliedTs` goes on in the stream: the
 * first chunk of the first group with a commit after it, found by a binary
 * search over the messages' Tm-Last headers (they grow along the stream).
 * Starting early is harmless (records at or below the replica's clock are
 * skipped); a stream trimmed past the replica shows as a gap at the first
 * group, and the replica bootstraps again.
 */
import type { StreamLink } from './connection.js';
import { retrying } from './retry.js';
import { readChunk } from './wire.js';

export async function findResume(link: StreamLink, appliedTs: number): Promise<number> {
  const { jsm, stream } = link;
  const info = await retrying(() => jsm.streams.info(stream));
  const first = info.state.first_seq;
  const last = info.state.last_seq;
  if (info.state.messages === 0) return last + 1;
  const lastOf = async (seq: number): Promise<{ last: number; index: number } | null> => {
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg === null) return null;
    const chunk = readChunk(msg.header, msg.data, `stream "${stream}" message ${seq}`);
    return { last: chunk.header.last, index: chunk.index };
  };
  let lo = first;
  let hi = last + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const at = await lastOf(mid);
    // A message gone from the middle (deleted by hand) counts as before the position: start earlier.
    if (at !== null && at.last > appliedTs) hi = mid;
    else lo = mid + 1;
  }
  if (lo > last) return last + 1;
  const at = await lastOf(lo);
  return Math.max(first, lo - (at?.index ?? 0));
}
