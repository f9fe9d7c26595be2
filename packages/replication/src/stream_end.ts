/**
 * Where a primary's shipping goes on: the stream's last message, read and
 * checked before the first append and after every failed one. Each check
 * that fails is REPLICATION_FENCED: the stream is not this primary's to
 * extend.
 *
 *   another database's log                         fenced
 *   a later epoch (another node's term)            fenced
 *   another writer after this one's last append     fenced
 *   commits past this database's newest            fenced (an older copy, or another primary went on)
 *   a last commit whose digest is not ours         fenced (another primary went on from an older state)
 *   a promoted replica, and the stream moved on     fenced (it must apply the rest before it may write)
 */
import { crc32 } from 'node:zlib';
import { ErrorCode, type ReplicationPort, TidemarkError } from '@tidemark/core';
import type { StreamLink } from './connection.js';
import { readChunk } from './wire.js';

/** A writer's term: the lease epoch it holds, and for a promoted replica the stream sequence it applied last. */
export interface Term {
  epoch: number;
  /** The term opens only if the stream still ends there (null: a primary resuming from its own log). */
  appliedSeq: number | null;
  /** Whether the lease is still held: once false, nothing more is appended (default: always). */
  live?: () => boolean;
}

export interface StreamEnd {
  /** The stream's last sequence (0: empty). */
  lastSeq: number;
  /** The commitTs shipping goes on after. */
  position: number;
}

/** How long a resuming primary looks in its WAL for the stream's last commit. */
const HOLDS_WAIT_MS = 5_000;

function fenced(message: string): TidemarkError {
  return new TidemarkError(ErrorCode.REPLICATION_FENCED, message);
}

/**
 * Reads and checks the stream's end for the writer `writer` of `term`,
 * which last saw sequence `seenSeq` (0: not yet); `cursor` is the WAL
 * cursor a digest check reads under.
 */
export async function readStreamEnd(
  link: StreamLink,
  port: ReplicationPort,
  writer: string,
  seenSeq: number,
  term: Term | null,
  cursor: string,
): Promise<StreamEnd> {
  const { jsm, stream, subject } = link;
  const info = await jsm.streams.info(stream);
  const lastSeq = info.state.last_seq;
  if (term?.appliedSeq != null && seenSeq === 0 && lastSeq !== term.appliedSeq) {
    throw fenced(
      `stream "${stream}" went on to message ${lastSeq} past the ${term.appliedSeq} this replica applied: it applies the rest before it may write`,
    );
  }
  if (info.state.messages === 0) return { lastSeq, position: 0 };
  const msg = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (msg === null) throw new Error(`the stream's last message could not be read`);
  const { header, index, count } = readChunk(msg.header, msg.data, `stream "${stream}" message ${msg.seq}`);
  if (header.databaseId !== port.databaseId) {
    throw fenced(
      `stream "${stream}" holds the log of database ${header.databaseId}, not of this one (${port.databaseId})`,
    );
  }
  const epoch = term?.epoch ?? 0;
  if (header.epoch > epoch) {
    throw fenced(
      `stream "${stream}" is in epoch ${header.epoch} (another node's term), past this primary's ${epoch}: it ships nothing more`,
    );
  }
  if (seenSeq > 0 && header.writer !== writer && msg.seq > seenSeq) {
    throw fenced(
      `another writer (${header.writer}) appended to stream "${stream}" after this primary's message ${seenSeq}: this primary ships nothing more`,
    );
  }
  // A group cut short (its writer stopped between chunks) is shipped again whole.
  const position = index === count - 1 ? header.last : header.after;
  if (position > port.commitTs) {
    throw fenced(
      `stream "${stream}" holds commits up to ${position}, past this database's newest (${port.commitTs}): it was restored from an older copy, or another primary went on`,
    );
  }
  // An empty group has no digest; a promoted replica applied the stream itself.
  const check = position === header.last && msg.data.length > 0 && term?.appliedSeq == null;
  if (check && !(await holds(port, cursor, position, header.digest))) {
    throw fenced(
      `stream "${stream}" holds a commit ${position} that is not this database's: another primary of it went on from an older state`,
    );
  }
  return { lastSeq, position };
}

/**
 * Whether this database's record of commit `ts` has the body digest the
 * stream holds. True when the WAL no longer holds it (nothing to compare).
 */
async function holds(port: ReplicationPort, cursor: string, ts: number, digest: number): Promise<boolean> {
  const feed = port.records(ts - 1, cursor);
  try {
    const first = await Promise.race([
      feed.next(),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), HOLDS_WAIT_MS).unref()),
    ]);
    if (first === undefined || first.done) return false;
    return first.value.commitTs === ts && crc32(first.value.body) === digest;
  } catch (error) {
    if (error instanceof TidemarkError && error.code === ErrorCode.CHANGES_EXPIRED) return true;
    throw error;
  } finally {
    await feed.return?.();
  }
}
