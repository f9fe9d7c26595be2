/**
 * The hooks a replication package needs from a database, and nothing else:
 * its identity, its durable records in commit order (the WAL kept for them
 * under a named cursor), where `replicated` commits wait, and, on a replica,
 * applying the primary's records. Core knows nothing of the transport.
 */
import type { Replicator } from '../txn/engine.js';
import type { RecordBatch } from './record_reader.js';

export type { RecordBatch } from './record_reader.js';
export type { Replicator } from '../txn/engine.js';

/** Durable records after a position, handed out in commit order; `ack` lets the WAL before a position go. */
export interface RecordFeed extends AsyncIterableIterator<RecordBatch> {
  /** Everything durable after the last record handed out, about `maxBytes` at most (one record at least); null once ended. */
  nextBatch(maxBytes: number): Promise<RecordBatch[] | null>;
  /** Records the named cursor at `commitTs`, durably: the WAL before it may go. */
  ack(commitTs: number): void;
}

export interface ReplicationPort {
  /** The database's id: the same in its WAL, its roots and every copy of it. */
  readonly databaseId: string;
  /** The database directory. */
  readonly dir: string;
  /** The newest commitTs made (visible to snapshots from now on). */
  readonly commitTs: number;
  /** The newest commitTs known durable here. */
  readonly durableTs: number;
  /** WAL bytes made durable since the database opened: a running count, for measuring a backlog. */
  readonly walBytes: number;
  /** Resolves once every commit up to `commitTs` is durable here. */
  whenDurable(commitTs: number): Promise<number>;
  /**
   * Durable record bodies after `since`, in commit order, from memory or the
   * WAL; the WAL after the position last acknowledged under `cursor` (which
   * never moves back) is kept, up to options.maxRetainedWalBytes.
   * CHANGES_EXPIRED, at the first next(), when it is gone.
   */
  records(since: number, cursor: string): RecordFeed;
  /** Moves the named cursor forward to `commitTs` without reading: the WAL before it may go. */
  moveCursor(cursor: string, commitTs: number): void;
  /** Where `replicated` commits wait from now on (null: they fail with REPLICATION_UNAVAILABLE). */
  attach(replicator: Replicator | null): void;
  /** Makes the database a replica: every write is refused with READ_ONLY and `reason`; `apply` takes the primary's records. */
  becomeReplica(reason: string): void;
  /** Makes a replica (or a fenced primary) writable again: a promotion whose term has opened. */
  becomePrimary(): void;
  /** Refuses every write from now on with READ_ONLY and `reason` (a primary fenced off or out of its lease). */
  refuseWrites(reason: string): void;
  /** Runs `check` before every read and transaction from now on (null: none); it throws STALE to refuse one. */
  setReadCheck(check: (() => void) | null): void;
  /** Applies a primary's record body as a commit at its commitTs; returns it, or 0 if already applied. */
  apply(body: Uint8Array): number;
}
