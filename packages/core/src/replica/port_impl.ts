/**
 * The replication port of a database on disk (the interface is in port.ts):
 * kept apart so the public declarations never name the engine's internals.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import type { FeedHub } from '../feed/change_feed.js';
import type { DurableLog } from '../log/durable_log.js';
import type { Engine, Replicator } from '../txn/engine.js';
import { RecordApplier } from './apply_record.js';
import type { RecordFeed, ReplicationPort } from './port.js';
import { RecordReader } from './record_reader.js';

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

  get walBytes(): number {
    return this.#log.walBytes;
  }

  whenDurable(commitTs: number): Promise<number> {
    return this.#log.sink.whenDurable(Math.min(commitTs, this.#engine.loggedTs)).then(() => commitTs);
  }

  records(since: number, cursor: string): RecordFeed {
    this.#engine.checkOpen();
    const cursors = this.#log.cursors;
    // The feed starts at `since` even where the cursor is past it (a cursor never moves back).
    cursors.set(cursor, since);
    return new RecordReader(this.#hub(), since, (commitTs) => cursors.set(cursor, commitTs));
  }

  moveCursor(cursor: string, commitTs: number): void {
    this.#engine.checkOpen();
    this.#log.cursors.set(cursor, commitTs);
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

  becomePrimary(): void {
    this.#engine.checkOpen();
    this.#engine.readOnly = false;
    this.#engine.readOnlyReason = '';
    this.#replica = false;
  }

  refuseWrites(reason: string): void {
    this.#engine.checkOpen();
    this.#engine.readOnly = true;
    this.#engine.readOnlyReason = reason;
  }

  setReadCheck(check: (() => void) | null): void {
    this.#engine.readCheck = check;
  }

  apply(body: Uint8Array): number {
    if (!this.#replica) throw new TidemarkError(ErrorCode.READ_ONLY, 'only a replica applies replicated records');
    return this.#applier.apply(body, 0, body.length);
  }
}
