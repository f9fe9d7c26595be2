/**
 * The state every transaction shares: the clock, the open snapshots, the
 * garbage queue, the log sink and the tables. One per Database; main thread
 * only, so nothing here is locked.
 */
import { assert } from '../assert.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { TableStore } from '../table/table_store.js';
import { Garbage } from './garbage.js';
import type { LogSink } from './sink.js';
import { Clock, Snapshots } from './snapshots.js';
import { WriteSet } from './write_set.js';

export type Isolation = 'snapshot' | 'serializable';
/**
 * 'durable': a commit resolves once its record is fdatasync'd; 'delayed': at once, flushed with the next batch;
 * 'replicated': once durable here and acknowledged by the replication stream (@tidemark/replication).
 */
export type Durability = 'durable' | 'delayed' | 'replicated';

/** What a `replicated` commit waits on once durable: the replication attached to the database. */
export interface Replicator {
  /** Resolves once every commit up to `commitTs` is in the stream; rejects with REPLICATION_UNAVAILABLE or REPLICATION_FENCED. */
  whenReplicated(commitTs: number): Promise<void>;
}

export interface EngineCounters {
  commits: number;
  aborts: number;
  conflicts: number;
}

export class Engine {
  readonly clock = new Clock();
  readonly snapshots = new Snapshots();
  readonly garbage = new Garbage();
  readonly tables: TableStore[] = [];
  readonly tablesByName = new Map<string, TableStore>();
  /** Reused by every autocommit call: they run start to finish without yielding. */
  readonly autoWrites = new WriteSet();
  readonly counters: EngineCounters = { commits: 0, aborts: 0, conflicts: 0 };
  closed = false;
  /** Aborted by close(): work on other threads for this database (an index build's) stops. */
  readonly closing = new AbortController();
  /**
   * Open row iterators. They hold version pointers across event-loop turns,
   * so the segment cleaner, which moves versions, waits while any is open.
   */
  openIterators = 0;
  /** The last schema change called (schema_change.ts runs them one at a time). */
  schemaChanges: Promise<unknown> = Promise.resolve();
  /** Opened with options.readOnly, or a replica: every write is refused, with `readOnlyReason`. */
  readOnly = false;
  readOnlyReason = 'the database was opened read-only (options.readOnly)';
  /** The replication `replicated` commits wait on (null: none attached). */
  replicator: Replicator | null = null;
  /** See `epoch`. */
  #epoch = 0;
  /** Write sets of finished transactions, reused so a transaction does not allocate buffers. */
  private readonly spareWrites: WriteSet[] = [];

  /** See `loggedTs`. */
  #loggedTs = 0;
  /** Set when the log writer failed: nothing more can be made durable, so writes are refused. */
  failure: Error | null = null;
  /** Whether the disk is full (the log writer's disk state): writes are refused until it clears. */
  diskFull: () => boolean = () => false;

  constructor(
    public sink: LogSink,
    readonly isolation: Isolation,
    readonly durability: Durability,
    readonly maxBacklogBytes: number,
  ) {}

  /**
   * Moves whenever a primary index may have changed (a commit, a garbage
   * collection, a cleaner slice). While it stands still, the heads a
   * transaction found when staging its writes are still the newest versions,
   * and commit skips looking them up again.
   */
  /** The commitTs of the newest commit handed to the sink: what a later commit's durability waits for. */
  get loggedTs(): number {
    return this.#loggedTs;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** A primary index changed outside a commit (garbage collected, versions moved): staged heads are looked up again. */
  indexChanged(): void {
    this.#epoch++;
  }

  /**
   * Opens a commit of `count` versions, whose room on the clock was checked
   * before anything changed: returns its commitTs (its versionIds are the
   * `count` ids up to it) and moves the epoch, since the commit changes indexes.
   */
  stampCommit(count: number): number {
    this.#epoch++;
    return this.clock.now + count;
  }

  /**
   * Ends the commit `stampCommit` opened: snapshots taken from now on see it,
   * and a logged commit is what later commits' durability waits for.
   */
  publishCommit(commitTs: number, logged: boolean): void {
    assert(commitTs > this.clock.now, 'a commit moves the clock forward');
    this.clock.now = commitTs;
    if (logged) this.#loggedTs = commitTs;
  }

  /** Moves the clock up to a commit loaded from disk (a checkpoint, a replayed record); it never moves back. */
  advanceClock(ts: number): void {
    if (ts > this.clock.now) this.clock.now = ts;
  }

  /** Recovery is done: every commit up to the clock is in the log, so later commits' durability need not wait for it. */
  recovered(): void {
    this.#loggedTs = this.clock.now;
  }

  /** Resolves with `commitTs` once every logged commit up to it is durable (at once when `delayed`). */
  acknowledge(commitTs: number, durability: Durability): Promise<number> {
    if (durability === 'replicated') return this.#replicated(commitTs);
    const sink = this.sink;
    const wait = Math.min(commitTs, this.loggedTs);
    if (durability === 'delayed' || wait <= sink.durableTs) return Promise.resolve(commitTs);
    // A logged commit waits for itself; an unlogged one (schemaOnly) for the commits logged before it.
    return wait === commitTs ? sink.whenDurable(commitTs) : sink.whenDurable(wait).then(() => commitTs);
  }

  /** acknowledge() without a promise, blocking this thread until durable (transactionSync with durability 'durable'). */
  acknowledgeSync(commitTs: number, durability: Durability): void {
    if (durability === 'delayed') return;
    if (durability === 'replicated')
      throw new TidemarkError(
        ErrorCode.INVALID_OPTION,
        "durability 'replicated' cannot be waited for synchronously: use transaction()",
      );
    this.sink.waitDurableSync(Math.min(commitTs, this.loggedTs));
  }

  /** Durable here, then in the replication stream. */
  async #replicated(commitTs: number): Promise<number> {
    const replicator = this.replicator;
    if (replicator === null) {
      throw new TidemarkError(
        ErrorCode.REPLICATION_UNAVAILABLE,
        `commit ${commitTs} asked for durability 'replicated' but no replication is attached (@tidemark/replication replicate()); it is applied here`,
      );
    }
    await this.acknowledge(commitTs, 'durable');
    await replicator.whenReplicated(commitTs);
    return commitTs;
  }

  checkOpen(): void {
    if (this.closed) throw new TidemarkError(ErrorCode.CLOSED, 'the database is closed');
  }

  /** Set on a replica with a staleness bound: throws STALE when a read would serve data older than it. */
  readCheck: (() => void) | null = null;

  /** Before a read: the database is open and, on a replica, not stale. */
  checkRead(): void {
    this.checkOpen();
    this.readCheck?.();
  }

  /** Writes need a working log too. */
  checkWritable(): void {
    this.checkOpen();
    if (this.readOnly) throw new TidemarkError(ErrorCode.READ_ONLY, this.readOnlyReason);
    if (this.failure !== null) {
      throw new TidemarkError(
        ErrorCode.IO_ERROR,
        `the database is read-only after a log failure: ${this.failure.message}`,
        { cause: this.failure },
      );
    }
    if (this.diskFull()) {
      throw new TidemarkError(
        ErrorCode.DISK_FULL,
        'the disk is full: the database is read-only until space returns (reads work; commits already made finish once the log can be written)',
      );
    }
  }

  table(name: string): TableStore {
    const table = this.tablesByName.get(name);
    if (table === undefined) throw new TidemarkError(ErrorCode.UNKNOWN_TABLE, `no table named "${name}"`);
    return table;
  }

  takeWriteSet(): WriteSet {
    return this.spareWrites.pop() ?? new WriteSet();
  }

  returnWriteSet(ws: WriteSet): void {
    ws.clear();
    if (this.spareWrites.length < 64) this.spareWrites.push(ws);
  }

  /** Retires what the oldest open snapshot no longer needs. */
  collectGarbage(): void {
    if (this.garbage.pending === 0) return;
    this.garbage.collect(this.snapshots.oldest());
    this.indexChanged();
  }
}
