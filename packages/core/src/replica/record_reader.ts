/**
 * The durable records after a position, handed out in batches: everything
 * durable the feed's buffer holds at once, or a WAL read's worth, with no
 * promise per record (the change feed's iterator has one). What a
 * replication ships from; `next()` hands them out one at a time too.
 *
 *   position in the buffer? ─yes─► take the durable records after it ─► none yet: wait for one, or its fdatasync
 *            │ no: before what the buffer covers
 *            ▼
 *   read the WAL after it on the feed's worker ─► wait until that read is durable ─► hand it out
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import type { FeedHub } from '../feed/change_feed.js';
import type { BufferedRecord, FeedBuffer } from '../feed/feed_buffer.js';

/** The record of one commit, as a replication ships it. */
export interface RecordBatch {
  commitTs: number;
  /** When it was committed (ms since the epoch); null for a commit read from a WAL segment older than version 3. */
  time: number | null;
  /** The record body (log/record.ts): a view of bytes nothing writes again. */
  body: Uint8Array;
}

export class RecordReader implements AsyncIterableIterator<RecordBatch> {
  #position: number;
  readonly #buffer: FeedBuffer;
  #pending: RecordBatch[] = [];
  #done = false;

  constructor(
    private readonly hub: FeedHub,
    since: number,
    /** Records a position durably (the named cursor). */
    readonly ack: (commitTs: number) => void,
  ) {
    this.#position = since;
    this.#buffer = hub.attach();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The durable records after the last one handed out, about `maxBytes` at most; null once returned or closed. */
  async nextBatch(maxBytes: number): Promise<RecordBatch[] | null> {
    const engine = this.hub.engine;
    const sink = this.hub.sink;
    while (!this.#done && !engine.closed) {
      if (this.#pending.length > 0) return this.#fromPending(maxBytes);
      const buffer = this.#buffer;
      if (this.#position >= buffer.coversAfter) {
        const out: BufferedRecord[] = [];
        const last = buffer.take(this.#position, sink.durableTs, maxBytes, out);
        if (out.length > 0) {
          this.#position = last;
          return out;
        }
        // Nothing durable after the position: wait for the next record's fdatasync, or for a record.
        const newest = buffer.take(this.#position, Infinity, 1, out);
        if (out.length > 0) await sink.whenDurable(newest);
        else await buffer.next();
        continue;
      }
      await this.#fromWal(buffer.coversAfter);
    }
    return null;
  }

  async next(): Promise<IteratorResult<RecordBatch, undefined>> {
    const batch = await this.nextBatch(1);
    if (batch === null) return this.return();
    this.#pending = batch.slice(1).concat(this.#pending);
    return { value: batch[0]!, done: false };
  }

  #fromPending(maxBytes: number): RecordBatch[] {
    let n = 0;
    let bytes = 0;
    while (n < this.#pending.length && (n === 0 || bytes < maxBytes)) bytes += this.#pending[n++]!.body.length;
    const out = this.#pending.slice(0, n);
    this.#pending = this.#pending.slice(n);
    return out;
  }

  /** Reads the records after the position from the WAL (all of them made durable first). */
  async #fromWal(covered: number): Promise<void> {
    const sink = this.hub.sink;
    let read = await this.hub.readWal(this.#position);
    if (read.expired) {
      throw new TidemarkError(
        ErrorCode.CHANGES_EXPIRED,
        `the WAL no longer holds every commit after ${this.#position}: the oldest a reader can start after is ${read.oldestTs}`,
      );
    }
    if (read.count === 0) {
      // The commits up to `covered` may still be on their way to the WAL: once they are durable, read again.
      await sink.whenDurable(covered);
      read = await this.hub.readWal(this.#position);
      if (read.count === 0) this.#position = Math.max(this.#position, covered);
    }
    if (read.count === 0) return;
    await sink.whenDurable(read.lastTs);
    const view = new DataView(read.records.buffer, read.records.byteOffset, read.records.byteLength);
    for (let at = 0, i = 0; i < read.count; i++) {
      const length = view.getUint32(at, true);
      const time = read.times[i]!;
      this.#pending.push({
        commitTs: view.getFloat64(at + 8, true),
        time: time < 0 ? null : time,
        body: read.records.subarray(at + 4, at + 4 + length),
      });
      at += 4 + length;
    }
    this.#position = read.lastTs;
  }

  async return(): Promise<IteratorResult<RecordBatch, undefined>> {
    if (!this.#done) {
      this.#done = true;
      this.#pending = [];
      this.hub.detach();
    }
    return { value: undefined, done: true };
  }
}
