/**
 * db.changes(): committed transactions in commit order, as an async
 * iterator. While any feed is open the log sink hands each record to the
 * hub's buffer too (feed_buffer.ts); a feed reads from there, and whatever
 * the buffer does not hold (commits before it started, or let go because a
 * consumer fell behind) from the WAL, on a worker (wal_changes.ts). With
 * `durable` (the default) a commit is handed out only once it is durable.
 *
 *   position ─► in the buffer? ─yes─► decode, wait until durable, hand out
 *                   │ no: before what it covers
 *                   ▼
 *               read the WAL after position (a worker) ─► hand those out
 */
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { DurableSink } from '../log/durable_sink.js';
import { checkOptionKeys } from '../options.js';
import { workerExecArgv } from '../threads/exec_argv.js';
import { workerBundle } from '../threads/worker_handle.js';
import { LoopHold } from '../threads/loop_hold.js';
import type { Engine } from '../txn/engine.js';
import { decodeChanges, type ChangeBatch } from './changes.js';
import type { Cursors } from './cursors.js';
import { FeedBuffer } from './feed_buffer.js';
import type { WalChanges, WalChangesTask } from './wal_changes.js';

export interface ChangesOptions {
  /** Hand out commits after this commitTs (default: the newest, so only commits from now on). */
  since?: number;
  /** Only changes of these tables (default: all). */
  tables?: string[];
  /** Only commits that are durable (default true). */
  durable?: boolean;
  /**
   * A named, persistent position: the feed starts after the commitTs last
   * acknowledged with `ack()` under this name (or `since` the first time),
   * and the WAL after it is kept for it (feed/cursors.ts).
   */
  cursor?: string;
}

/** A change feed; `ack(commitTs)` records a named cursor's position durably. */
export interface Changes extends AsyncIterableIterator<ChangeBatch> {
  ack(commitTs: number): void;
}

const KEYS: ReadonlySet<string> = new Set(['since', 'tables', 'durable', 'cursor']);
/** Record bytes the hub keeps in memory for its feeds. */
const BUFFER_BYTES = 16 * 1024 * 1024;
/** Record bytes one WAL read returns at most (about). */
const WAL_READ_BYTES = 4 * 1024 * 1024;

/** What the feeds of one database share: the buffer the sink fills while one is open, and the WAL reader. */
export class FeedHub {
  buffer: FeedBuffer | null = null;
  private pool: Piscina<WalChangesTask, WalChanges> | null = null;
  private open = 0;
  private readonly loop = new LoopHold();

  constructor(
    readonly engine: Engine,
    readonly sink: DurableSink,
    readonly dir: string,
  ) {}

  attach(): FeedBuffer {
    this.open++;
    if (this.buffer === null) {
      const buffer = new FeedBuffer(BUFFER_BYTES, this.engine.loggedTs);
      this.buffer = buffer;
      let view: DataView | null = null;
      this.sink.tap = (bytes, offset, length) => {
        // The sink builds every record in one buffer (a new one only when it grows): one view serves them all.
        if (view === null || view.buffer !== bytes.buffer)
          view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        buffer.add(view.getFloat64(offset + 4, true), Date.now(), bytes.slice(offset, offset + length));
      };
    }
    return this.buffer;
  }

  detach(): void {
    if (--this.open > 0) return;
    this.sink.tap = null;
    this.buffer?.wakeAll();
    this.buffer = null;
    void this.pool?.destroy();
    this.pool = null;
  }

  /** Reads the WAL on the pool's thread; the loop is held meanwhile (the thread is unref'd: threads/loop_hold.ts). */
  async readWal(afterTs: number): Promise<WalChanges> {
    this.pool ??= new Piscina<WalChangesTask, WalChanges>({
      filename: pathToFileURL(workerBundle('feed')).href,
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: 5_000,
      execArgv: workerExecArgv(),
    });
    this.loop.hold();
    try {
      return await this.pool.run({ dir: this.dir, afterTs, maxBytes: WAL_READ_BYTES });
    } finally {
      this.loop.release();
    }
  }
}

export class ChangeFeed implements Changes {
  #position: number;
  readonly #tables: ReadonlySet<string> | null;
  readonly #durable: boolean;
  readonly #buffer: FeedBuffer;
  /** Batches read from the WAL, handed out from #pendingAt on (an index: shift() would copy the rest each time). */
  #pending: ChangeBatch[] = [];
  #pendingAt = 0;
  #done = false;

  readonly #cursor: string | null;

  constructor(
    private readonly hub: FeedHub,
    options: ChangesOptions | undefined,
    private readonly cursors: Cursors,
  ) {
    checkOptionKeys(options, KEYS);
    const cursor = options?.cursor;
    if (cursor !== undefined && (typeof cursor !== 'string' || cursor === '' || cursor.length > 128))
      throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.cursor must be a name of 1 to 128 characters');
    this.#cursor = cursor ?? null;
    const since = (cursor === undefined ? undefined : cursors.get(cursor)) ?? options?.since ?? hub.engine.loggedTs;
    if (!Number.isSafeInteger(since) || since < 0)
      throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.since must be a commitTs (a non-negative integer)');
    const tables = options?.tables;
    if (tables !== undefined && !(Array.isArray(tables) && tables.every((t) => typeof t === 'string')))
      throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.tables must be an array of table names');
    if (options?.durable !== undefined && typeof options.durable !== 'boolean')
      throw new TidemarkError(ErrorCode.INVALID_OPTION, 'options.durable must be a boolean');
    this.#position = since;
    this.#tables = tables === undefined ? null : new Set(tables);
    this.#durable = options?.durable ?? true;
    this.#buffer = hub.attach();
  }

  /** Records the named cursor at `commitTs` (a commit this feed handed out), durably; INVALID_OPTION without a cursor. */
  ack(commitTs: number): void {
    if (this.#cursor === null)
      throw new TidemarkError(ErrorCode.INVALID_OPTION, 'ack() needs a feed opened with options.cursor');
    if (!Number.isSafeInteger(commitTs) || commitTs < 0)
      throw new TidemarkError(ErrorCode.INVALID_OPTION, 'ack() takes a commitTs (a non-negative integer)');
    this.cursors.set(this.#cursor, commitTs);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ChangeBatch, undefined>> {
    const engine = this.hub.engine;
    while (!this.#done && !engine.closed) {
      const batch = this.#nextPending() ?? (await this.#fromBuffer());
      if (batch === undefined) continue;
      if (this.#durable) await this.hub.sink.whenDurable(batch.commitTs);
      return { value: batch, done: false };
    }
    return this.return();
  }

  #nextPending(): ChangeBatch | undefined {
    if (this.#pendingAt < this.#pending.length) return this.#pending[this.#pendingAt++];
    if (this.#pendingAt > 0) {
      this.#pending = [];
      this.#pendingAt = 0;
    }
    return undefined;
  }

  /** The next batch from memory (undefined: none passed the filter yet, or the WAL was read into #pending). */
  async #fromBuffer(): Promise<ChangeBatch | undefined> {
    const buffer = this.#buffer;
    const record = buffer.after(this.#position);
    if (record !== null) {
      this.#position = record.commitTs;
      const body = record.body;
      return decodeChanges(this.hub.engine, body, 0, body.length, record.time, this.#tables) ?? undefined;
    }
    if (this.#position >= buffer.coversAfter) {
      await buffer.next();
      return undefined;
    }
    await this.#fromWal(buffer.coversAfter);
    return undefined;
  }

  /** Reads the commits after the position from the WAL; with none there, every commit up to `covered` is made durable first. */
  async #fromWal(covered: number): Promise<void> {
    let read = await this.hub.readWal(this.#position);
    if (read.expired) {
      throw new TidemarkError(
        ErrorCode.CHANGES_EXPIRED,
        `the WAL no longer holds every commit after ${this.#position}: the oldest a feed can start after is ${read.oldestTs}`,
      );
    }
    if (read.count === 0) {
      // The commits up to `covered` may still be on their way to the WAL: once they are durable, read again.
      await this.hub.sink.whenDurable(covered);
      read = await this.hub.readWal(this.#position);
      if (read.count === 0) this.#position = Math.max(this.#position, covered);
    }
    const view = new DataView(read.records.buffer, read.records.byteOffset, read.records.byteLength);
    for (let at = 0, i = 0; i < read.count; i++) {
      const length = view.getUint32(at, true);
      const time = read.times[i]!;
      const batch = decodeChanges(this.hub.engine, read.records, at + 4, length, time < 0 ? null : time, this.#tables);
      if (batch !== null) this.#pending.push(batch);
      at += 4 + length;
    }
    if (read.count > 0) this.#position = read.lastTs;
  }

  async return(): Promise<IteratorResult<ChangeBatch, undefined>> {
    if (!this.#done) {
      this.#done = true;
      this.#pending = [];
      this.#pendingAt = 0;
      this.hub.detach();
    }
    return { value: undefined, done: true };
  }
}
