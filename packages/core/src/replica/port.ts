/**
 * The hooks a replication package needs from a database, and nothing else:
 * its identity, its durable records in commit order (the WAL kept for them
 * under a named cursor), where `replicated` commits wait, and, on a replica,
 * applying the primary's records. Core knows nothing of the transport.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { ChangeFeed, type FeedHub, rawRecords, type RecordBatch } from '../feed/change_feed.js';
import type { DurableLog } from '../log/durable_log.js';
import type { Engine, Replicator } from '../txn/engine.js';
import { RecordApplier } from './apply_record.js';

export type { RecordBatch } from '../feed/change_feed.js';
export type { Replicator } from '../txn/engine.js';

/** Durable records after a position, handed out in commit order; `ack` lets the WAL before a position go. */
export interface RecordFeed extends AsyncIterableIterator<RecordBatch> {
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
  /** Resolves once every commit up to `commitTs` is durable here. */
  whenDurable(commitTs: number): Promise<number>;
  /**
   * Durable record bodies after `since`, in commit order, from memory or the
   * WAL; the WAL after the position last acknowledged under `cursor` (which
   * never moves back) is kept, up to options.maxRetainedWalBytes.
   * CHANGES_EXPIRED, at the first next(), when it is gone.
   */
  records(since: number, cursor: string): RecordFeed;
  /** Where `replicated` commits wait from now on (null: they fail with REPLICATION_UNAVAILABLE). */
  attach(replicator: Replicator | null): void;
  /** Makes the database a replica: every write is refused with READ_ONLY and `reason`; `apply` takes the primary's records. */
  becomeReplica(reason: string): void;
  /** Applies a primary's record body as a commit at its commitTs; returns it, or 0 if already applied. */
  apply(body: Uint8Array): number;
}

export class Port implements ReplicationPort {
  readonly #engine: Engine;
  readonly #log: DurableLog;
  readonly #hub: () => FeedHub;
  readonly #applier: RecordApplier;
  #replica = false;

  private constructor(
    engine: Engine,
    log: DurableLog,
    hub: () => FeedHub,
    readonly dir: string,
  ) {
    this.#engine = engine;
    this.#log = log;
    this.#hub = hub;
    this.#applier = new RecordApplier(engine);
  }

  /** The port of a database on disk; `handles` are the database's table handles, forgotten when a record drops a table. */
  static of(
    engine: Engine,
    log: DurableLog | null,
    hub: (log: DurableLog) => FeedHub,
    handles: Map<string, unknown>,
    dir: string | null,
  ): Port {
    engine.checkOpen();
    if (log === null || dir === null) {
      if (engine.readOnly) throw new TidemarkError(ErrorCode.READ_ONLY, engine.readOnlyReason);
      throw new TidemarkError(ErrorCode.NO_DIRECTORY, 'replication needs a database directory (options.dir)');
    }
    const port = new Port(engine, log, () => hub(log), dir);
    port.#applier.onDrop = (name) => handles.delete(name);
    return port;
  }

  get databaseId(): string {
    return this.#log.databaseId;
  }

  get commitTs(): number {
    return this.#engine.clock.now;
  }

  get durableTs(): number {
    return this.#log.sink.durableTs;
  }

  whenDurable(commitTs: number): Promise<number> {
    return this.#log.sink.whenDurable(Math.min(commitTs, this.#engine.loggedTs)).then(() => commitTs);
  }

  records(since: number, cursor: string): RecordFeed {
    this.#engine.checkOpen();
    const cursors = this.#log.cursors;
    // The feed starts at `since` even where the cursor is past it (a cursor never moves back).
    cursors.set(cursor, since);
    const feed = new ChangeFeed(this.#hub(), { since }, cursors, rawRecords);
    return Object.assign(feed, { ack: (commitTs: number) => cursors.set(cursor, commitTs) });
  }

  attach(replicator: Replicator | null): void {
    this.#engine.checkOpen();
    this.#engine.replicator = replicator;
  }

  becomeReplica(reason: string): void {
    this.#engine.checkOpen();
    this.#engine.readOnly = true;
    this.#engine.readOnlyReason = reason;
    this.#replica = true;
  }

  apply(body: Uint8Array): number {
    if (!this.#replica) throw new TidemarkError(ErrorCode.READ_ONLY, 'only a replica applies replicated records');
    return this.#applier.apply(body, 0, body.length);
  }
}
