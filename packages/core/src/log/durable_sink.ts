/**
 * The durable log sink, on the main thread. Each commit's record is built
 * once (RecordBuilder) and copied into the log ring; the ring is published
 * once per event-loop turn (a microtask), so the log writer wakes once per
 * batch of commits, not once per record. While commits wait for durability
 * it is also published every EARLY_PUBLISH_BYTES, so the writer syncs the
 * first records of a turn while the rest are made. The main thread never blocks:
 *
 * - Ring full: records queue here in commit order (the backlog) and are
 *   moved into the ring as the writer frees space. The backlog is bounded by
 *   the engine (commits fail with TM_BUSY past `maxBacklogBytes`).
 * - Durability: one Atomics.waitAsync on the DURABLE_TS cell; when it moves,
 *   every pending commit at or below it resolves in one pass. Log order is
 *   commit order, so a resolved commit implies all earlier ones are durable.
 * - Writer failure: every pending and later durability wait rejects with the
 *   writer's error.
 * - The event loop: held (LoopHold) while a durability wait is armed or a
 *   drain waits for ring space, and only then, since neither wait keeps
 *   Node's loop alive and the writer's thread is unref'd.
 *
 * The one exception, by the caller's explicit choice: waitDurableSync blocks
 * in Atomics.wait until its commit is durable (transactionSync with
 * `durability: 'durable'`), the way a synchronous store's commit blocks.
 */
import { assert } from '../assert.js';
import { copyBytes } from '../files/copy_bytes.js';
import type { RingProducer } from '../ring/ring.js';
import { LoopHold } from '../threads/loop_hold.js';
import type { LogSink } from '../txn/sink.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { DURABLE_TS, SYNC_WAITED_TS, WAITED_TS } from './log_control.js';
import { blockUntilDurable, SYNC_CHECK_MS, syncWaitFailure } from './sync_wait.js';
import {
  OP_CHANGE_TABLE,
  OP_CREATE_TABLE,
  OP_DELETE,
  OP_INSERT,
  RECORD_PREFIX_BYTES,
  RecordBuilder,
} from './record.js';

type WaitAsync = (
  typed: BigInt64Array,
  index: number,
  value: bigint,
) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const EMPTY = new Uint8Array(0);
/**
 * Record bytes after which a turn's records are published at once, not at the
 * end of the turn, while durable commits wait. Measured with
 * packages/bench/scripts/in_flight.mjs (256 durable commits in flight, 5 runs
 * each, alternating), median commits/s: once per turn 295–321 K; 256 B 385 K,
 * 512 B 401 K, 1 KiB 391–405 K, 2 KiB 378 K, 4 KiB 390 K.
 */
const EARLY_PUBLISH_BYTES = 1024;

export class DurableSink implements LogSink {
  durableTs: number;
  readonly maxRecordBytes: number;
  backlogBytes = 0;
  private readonly builder = new RecordBuilder();
  /** Records waiting for ring space, from `backlogHead` on (a head index: shift() is linear on a long array). */
  private readonly backlog: Uint8Array[] = [];
  private backlogHead = 0;
  private publishQueued = false;
  /** The drain waiting for ring space, if one is. */
  private draining: Promise<void> | null = null;
  private drainActive = false;
  private armed = false;
  /** Holds the event loop while `armed` (keepAlive) and while a drain runs. */
  private readonly loop = new LoopHold();
  private holdsForDurability = false;
  private failure: Error | null = null;
  /** Pending durability waits as parallel arrays (no object per commit), from `pendingHead` on. */
  private readonly pendingTs: number[] = [];
  private readonly pendingResolve: Array<(commitTs: number) => void> = [];
  private readonly pendingReject: Array<(e: Error) => void> = [];
  private pendingHead = 0;
  /** The newest commitTs a caller waits for, and the newest stored in WAITED_TS. */
  private waitedTs = 0;
  private storedWaitedTs = 0;
  /** Record bytes end() wrote into the ring since the last publish (records drained from the backlog are published by the drain). */
  private unpublishedBytes = 0;
  /** While a change feed is open: handed each finished record body (feed/change_feed.ts). */
  tap: ((bytes: Uint8Array, offset: number, length: number) => void) | null = null;

  constructor(
    private readonly ring: RingProducer,
    private readonly cells: BigInt64Array,
    /** The largest record a WAL segment holds. */
    segmentRecordBytes: number,
    /** Whether the log writer runs on another thread, so that this one may block on it (waitDurableSync). */
    readonly blocking = true,
  ) {
    this.durableTs = Number(Atomics.load(cells, DURABLE_TS));
    this.maxRecordBytes = Math.min(ring.maxRecordBytes, segmentRecordBytes);
  }

  /** Promises waiting for durability (durable commits and flushes). */
  get waiting(): number {
    return this.pendingTs.length - this.pendingHead;
  }

  /** Bytes the log ring holds now (written, not yet taken by the log writer), its size, and the records waiting for ring space. */
  ringFill(): { usedBytes: number; capacityBytes: number; backlogBytes: number } {
    return {
      usedBytes: this.ring.capacity - this.ring.free(),
      capacityBytes: this.ring.capacity,
      backlogBytes: this.backlogBytes,
    };
  }

  begin(commitTs: number): void {
    this.builder.begin(commitTs);
  }

  insert(tableId: number, versionId: number, bytes: Uint8Array, offset: number, length: number): void {
    this.builder.op(OP_INSERT, tableId, versionId, bytes, offset, length);
  }

  delete(tableId: number, versionId: number, key: Uint8Array, offset: number, length: number): void {
    this.builder.op(OP_DELETE, tableId, versionId, key, offset, length);
  }

  createTable(tableId: number, definition: Uint8Array): void {
    this.builder.op(OP_CREATE_TABLE, tableId, 0, definition, 0, definition.length);
  }

  changeTable(tableId: number, definition: Uint8Array): void {
    this.builder.op(OP_CHANGE_TABLE, tableId, 0, definition, 0, definition.length);
  }

  end(): void {
    const b = this.builder;
    b.end();
    const length = b.length - RECORD_PREFIX_BYTES;
    if (this.tap !== null) this.tap(b.bytes, RECORD_PREFIX_BYTES, length);
    assert(length <= this.maxRecordBytes, 'record fits the ring (checked before install)');
    if (this.backlogHead === this.backlog.length) {
      const at = this.ring.reserve(length);
      if (at >= 0) {
        copyBytes(b.bytes, RECORD_PREFIX_BYTES, length, this.ring.bytes, at);
        this.unpublishedBytes += length;
        this.queuePublish();
        return;
      }
    }
    this.backlog.push(b.bytes.slice(RECORD_PREFIX_BYTES, b.length));
    this.backlogBytes += length;
    this.queuePublish();
    void this.drain();
  }

  whenDurable(commitTs: number): Promise<number> {
    if (commitTs <= this.durableTs) return Promise.resolve(commitTs);
    if (this.failure !== null) return Promise.reject(this.failure);
    // Tell the writer someone waits: it syncs at once instead of within maxDelayMs. With a publish
    // queued (a commit of this turn), the publish stores it, once for the turn's commits, before the
    // records it covers become visible; otherwise now.
    if (commitTs > this.waitedTs) {
      this.waitedTs = commitTs;
      // Past EARLY_PUBLISH_BYTES the turn's records so far go out now, with this wait: the writer
      // writes and syncs them while the main thread makes the rest (group commit, pipelined).
      if (this.unpublishedBytes >= EARLY_PUBLISH_BYTES) this.publish();
      else if (!this.publishQueued) this.storeWaited();
    }
    return new Promise((resolve, reject) => {
      this.pendingTs.push(commitTs);
      this.pendingResolve.push(resolve);
      this.pendingReject.push(reject);
      this.arm();
    });
  }

  /** Called when the writer reports a failure: nothing pending can become durable. */
  fail(error: Error): void {
    this.failure ??= error;
    // Wakes a drain waiting for ring space the dead writer will never free (close() awaits it).
    if (!this.ring.closed) this.ring.close();
    for (let i = this.pendingHead; i < this.pendingReject.length; i++) this.pendingReject[i]!(this.failure);
    this.clearPending();
    this.keepAlive(false); // the armed wait may never end now
  }

  /** Lets go of the event loop for good: the log is closed and nothing waits on it. */
  releaseLoop(): void {
    this.loop.dispose();
  }

  get failed(): Error | null {
    return this.failure;
  }

  /** Moves the backlog into the ring and closes it; the writer drains it and stops. */
  async close(): Promise<void> {
    while (this.backlogHead < this.backlog.length && this.failure === null) await this.drain();
    this.publish();
    this.ring.close();
  }

  private queuePublish(): void {
    if (this.publishQueued) return;
    this.publishQueued = true;
    queueMicrotask(() => {
      this.publishQueued = false;
      this.publish();
    });
  }

  /** Makes the records written so far visible to the writer, after storing what callers wait for. */
  private publish(): void {
    this.unpublishedBytes = 0;
    this.storeWaited();
    this.ring.publish();
  }

  private storeWaited(): void {
    if (this.waitedTs <= this.storedWaitedTs) return;
    this.storedWaitedTs = this.waitedTs;
    Atomics.store(this.cells, WAITED_TS, BigInt(this.waitedTs));
  }

  /**
   * Moves queued records into the ring as space frees, in order. One drain
   * runs at a time and every caller gets its promise: close() awaiting a
   * drain that returned at once while another waits for space would spin in
   * microtasks and starve the very wake-up that drain waits for.
   */
  private drain(): Promise<void> {
    if (this.draining !== null) return this.draining;
    const run = this.runDrain();
    if (this.drainActive) this.draining = run; // still waiting for space; finished runs are not kept
    return run;
  }

  private async runDrain(): Promise<void> {
    this.drainActive = true;
    this.loop.hold();
    try {
      while (this.backlogHead < this.backlog.length && this.failure === null) {
        const record = this.backlog[this.backlogHead]!;
        const at = this.ring.reserve(record.length);
        if (at < 0) {
          this.publish();
          await this.ring.waitForSpace(record.length);
          if (this.ring.closed) return;
          continue;
        }
        this.moveFirst(at);
        this.queuePublish();
      }
    } finally {
      // In the same turn as the loop's last check, so a record queued after it starts a new run.
      this.drainActive = false;
      this.draining = null;
      this.loop.release();
    }
  }

  /** Copies the backlog's first record to `at` in the ring (reserved for it) and drops it from the backlog. */
  private moveFirst(at: number): void {
    const record = this.backlog[this.backlogHead]!;
    this.ring.bytes.set(record, at);
    this.backlog[this.backlogHead++] = EMPTY;
    if (this.backlogHead === this.backlog.length) {
      this.backlog.length = 0;
      this.backlogHead = 0;
    } else if (this.backlogHead >= 4096 && this.backlogHead * 2 >= this.backlog.length) {
      // A backlog that never empties under load: drop the drained front now and then.
      this.backlog.splice(0, this.backlogHead);
      this.backlogHead = 0;
    }
    this.backlogBytes -= record.length;
  }

  /**
   * Blocks this thread until every change up to `commitTs` is durable
   * (sync_wait.ts): no promise and no event-loop turn (a synchronous durable
   * commit, transactionSync). Records waiting for ring space go in first,
   * blocking for space as the writer frees it. Throws, the commit applied in
   * memory either way, as syncWaitFailure says.
   */
  waitDurableSync(commitTs: number): void {
    if (commitTs <= this.durableTs) return;
    if (!this.blocking)
      throw new TidemarkError(
        ErrorCode.INVALID_OPTION,
        'a synchronous durable wait needs the log writer on a thread of its own (not the inline threads of the fault tests)',
      );
    while (this.backlogHead < this.backlog.length) {
      this.checkSyncWait(commitTs);
      const at = this.ring.reserve(this.backlog[this.backlogHead]!.length);
      if (at >= 0) this.moveFirst(at);
      else {
        this.publish();
        this.ring.waitForSpaceSync(this.backlog[this.backlogHead]!.length, SYNC_CHECK_MS);
      }
    }
    if (commitTs > this.waitedTs) this.waitedTs = commitTs;
    Atomics.store(this.cells, SYNC_WAITED_TS, BigInt(commitTs));
    this.publish();
    const durable = blockUntilDurable(this.cells, commitTs, () => this.checkSyncWait(commitTs));
    // Async waits at or below it resolve when their armed wait fires (the cell moved past its value).
    this.durableTs = Math.max(this.durableTs, durable);
  }

  private checkSyncWait(commitTs: number): void {
    const failure = syncWaitFailure(this.cells, this.failure, this.ring.closed, commitTs);
    if (failure !== null) throw failure;
  }

  private clearPending(): void {
    this.pendingTs.length = 0;
    this.pendingResolve.length = 0;
    this.pendingReject.length = 0;
    this.pendingHead = 0;
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.keepAlive(true);
    const result = waitAsync(this.cells, DURABLE_TS, BigInt(this.durableTs));
    if (result.async) void (result.value as Promise<string>).then(() => this.onDurable());
    else queueMicrotask(() => this.onDurable());
  }

  private onDurable(): void {
    this.armed = false;
    this.durableTs = Number(Atomics.load(this.cells, DURABLE_TS));
    let i = this.pendingHead;
    while (i < this.pendingTs.length && this.pendingTs[i]! <= this.durableTs) {
      this.pendingResolve[i]!(this.pendingTs[i]!);
      i++;
    }
    if (i === this.pendingTs.length) {
      this.clearPending();
    } else {
      this.pendingHead = i;
      if (i >= 4096 && i * 2 >= this.pendingTs.length) {
        // Waits that never all resolve at once under steady load: drop the resolved front now and then.
        this.pendingTs.splice(0, i);
        this.pendingResolve.splice(0, i);
        this.pendingReject.splice(0, i);
        this.pendingHead = 0;
      }
      if (this.failure === null) this.arm();
    }
    this.keepAlive(this.armed);
  }

  private keepAlive(on: boolean): void {
    if (on === this.holdsForDurability) return;
    this.holdsForDurability = on;
    if (on) this.loop.hold();
    else this.loop.release();
  }
}
