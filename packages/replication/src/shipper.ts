/**
 * The primary's side: every durable log record goes, in commit order, into
 * the database's stream, grouped into messages and cut into chunks below
 * the servers' payload limit. Each message is published with
 * `expect.lastSequence` (the stream is the fence: two writers never both
 * append) and a msgID naming its chunk (a retried publish is stored once).
 *
 *   durable records (port.records) ─► group ─► chunks ─► publish, up to maxInFlight unacknowledged
 *        ▲                                                     │ ack: shippedTs moves, replicated commits resolve
 *        └── resync: read the stream's last message ◄──────────┘ error: wait for the rest, then resync
 *
 * The WAL after the shipped position is kept under a named cursor, so a
 * stream that is away for a while is caught up from disk.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { PubAck } from '@nats-io/jetstream';
import { ErrorCode, type RecordFeed, type ReplicationPort, TidemarkError } from '@tidemark/core';
import { Backlog } from './backlog.js';
import { readStreamEnd, type Term } from './stream_end.js';
import type { StreamLink } from './connection.js';
import type { FilledReplicate } from './options.js';
import { PositionWaiters } from './waiters.js';
import { chunksOf, framed } from './wire.js';

export type ShipperState = 'starting' | 'shipping' | 'retrying' | 'fenced' | 'closed';

export interface ShipperStats {
  state: ShipperState;
  /** Every commit up to this commitTs is in the stream. */
  shippedTs: number;
  /** The stream sequence of the newest message this primary had acknowledged. */
  streamSeq: number;
  /** Messages sent and not yet acknowledged, and their bytes. */
  inFlight: number;
  inFlightBytes: number;
  /** Commits made here and not yet in the stream (commitTs difference: versions, an upper bound of commits). */
  unshippedTs: number;
  /** WAL bytes made durable here since the last commit the stream acknowledged (counted from replicate() on). */
  unshippedBytes: number;
  /** Times the backlog passed options.maxUnshippedBytes and the WAL kept for the stream was let go. */
  backlogReleases: number;
  messages: number;
  bytes: number;
  /** Resyncs after a failed publish. */
  retries: number;
  lastError: string | null;
}

interface InFlight {
  settled: Promise<void>;
  bytes: number;
}

/** A group's stream position: the sequence of its last chunk and the commitTs of its last record. */
export interface ShippedGroup {
  last: number;
  seq: number;
}

const CURSOR_ACK_MS = 1_000;
/**
 * How long one publish waits for its ack before shipping resyncs (and sends
 * it again under the same msgID): a publish lost with a connection must not
 * hold the rest for the whole replicationTimeoutMs.
 */
const PUBLISH_TIMEOUT_MS = 5_000;
const RETRY_MS = 500;

export class Shipper {
  readonly writer = randomBytes(8).toString('hex');
  readonly waiters: PositionWaiters;
  #state: ShipperState = 'starting';
  #shippedTs = 0;
  #streamSeq = 0;
  #expectSeq = 0;
  /** The msgID of this writer's last publish since the stream's end was read (null: none yet). */
  #lastMsgID: string | null = null;
  #inFlight: InFlight[] = [];
  #inFlightBytes = 0;
  #broken: Error | null = null;
  #feed: RecordFeed | null = null;
  #ackedAt = 0;
  #stats = { messages: 0, bytes: 0, retries: 0, lastError: null as string | null };
  readonly #backlog: Backlog;
  /** Recent groups in the stream, oldest first: where a checkpoint's commitTs falls. */
  readonly groups: ShippedGroup[] = [];
  /** Where shipping starts at least: the checkpoint uploaded when the WAL no longer held the stream's next commits. */
  floor = 0;
  /** The floor shipping resumed at, past the stream's end: an empty group announces it first. */
  #floorMark = 0;
  #wake: (() => void) | null = null;
  /** Resolves when a publish fails or shipping stops: the loop stops waiting for records. */
  #interrupt: Promise<undefined>;
  #interrupted: () => void = () => {};
  readonly done: Promise<void>;
  /** Resolves once the stream's end was read the first time (a checkpoint needs it); rejects if fenced or closed first. */
  readonly resynced: Promise<void>;
  #resyncedNow: () => void = () => {};
  #resyncFailed: (error: Error) => void = () => {};
  /** Resolves once shipping runs: for a term, once its opening empty group is in the stream. */
  readonly opened: Promise<void>;
  #openedNow: () => void = () => {};
  #isOpen = false;
  /** The newest commit sent whose publish got no answer (0: none): its outcome is unknown. */
  #unknownTs = 0;
  #fenceError: TidemarkError | null = null;
  /** Told once, when shipping stops for good because the stream is not this primary's to extend. */
  onFenced: ((error: TidemarkError) => void) | null = null;

  constructor(
    private readonly port: ReplicationPort,
    private readonly link: StreamLink,
    private readonly options: FilledReplicate,
    private readonly cursor: string,
    /** The lease epoch this primary writes in (null: no lease). */
    private readonly term: Term | null,
    /** Called when the WAL no longer holds the commits after the stream's end: a checkpoint must go first. */
    private readonly expired: () => Promise<void>,
  ) {
    this.waiters = new PositionWaiters(options.replicationTimeoutMs);
    const behind = () => this.#state !== 'closed' && this.#state !== 'fenced' && this.#shippedTs < port.durableTs;
    this.#backlog = new Backlog(port, cursor, options.maxUnshippedBytes, behind, (message) => {
      this.#stats.lastError = message;
    });
    this.#interrupt = this.#armInterrupt();
    this.resynced = new Promise((resolve, reject) => {
      this.#resyncedNow = resolve;
      this.#resyncFailed = reject;
    });
    this.resynced.catch(() => {});
    this.opened = new Promise((resolve) => {
      this.#openedNow = resolve;
    });
    this.done = this.#run();
  }

  #armInterrupt(): Promise<undefined> {
    return new Promise((resolve) => {
      this.#interrupted = () => resolve(undefined);
    });
  }

  get state(): ShipperState {
    return this.#state;
  }

  get shippedTs(): number {
    return this.#shippedTs;
  }

  stats(): ShipperStats {
    return {
      state: this.#state,
      shippedTs: this.#shippedTs,
      streamSeq: this.#streamSeq,
      inFlight: this.#inFlight.length,
      inFlightBytes: this.#inFlightBytes,
      unshippedTs: Math.max(0, this.port.commitTs - this.#shippedTs),
      unshippedBytes: this.#backlog.bytes,
      backlogReleases: this.#backlog.releases,
      ...this.#stats,
    };
  }

  /** Stops shipping: what is in flight settles first; waiting commits fail with REPLICATION_UNAVAILABLE. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#resyncFailed(new TidemarkError(ErrorCode.CLOSED, 'replication was stopped'));
    this.#backlog.close();
    this.#wake?.();
    this.#interrupted();
    await this.#feed?.return?.();
    await this.done;
    this.waiters.failAll(
      new TidemarkError(
        ErrorCode.REPLICATION_UNAVAILABLE,
        'replication was stopped before the commit reached the stream',
      ),
    );
    this.waiters.close();
  }

  /**
   * Stops shipping for good (the lease was lost): nothing more is sent;
   * what is in flight settles (a commit the stream takes precedes the next
   * term; replicate()'s Replicator refuses to acknowledge it once the lease
   * is gone), and the commits still waiting fail.
   */
  fence(error: TidemarkError): void {
    if (this.#state === 'closed' || this.#state === 'fenced') return;
    this.#state = 'fenced';
    this.#fenceError = error;
    this.#wake?.();
    this.#interrupted();
  }

  /**
   * Fails the commits still waiting: REPLICATION_FENCED for those never
   * sent or refused by the stream (no other node has them),
   * REPLICATION_UNAVAILABLE for those whose publish got no answer.
   */
  #fenced(error: TidemarkError): void {
    this.#state = 'fenced';
    this.#stats.lastError = error.message;
    this.#resyncFailed(error);
    const unknown = new TidemarkError(
      ErrorCode.REPLICATION_UNAVAILABLE,
      `${error.message}; the commit was sent and got no answer: the stream may hold it or not`,
    );
    this.waiters.failSplit(this.#unknownTs, unknown, error);
    this.onFenced?.(error);
  }

  async #run(): Promise<void> {
    while (this.#state !== 'closed' && this.#state !== 'fenced') {
      try {
        this.#interrupt = this.#armInterrupt();
        const position = await this.#resync();
        this.#state = 'shipping';
        await this.#ship(position);
      } catch (error) {
        if (this.state === 'closed') break;
        await this.#settleAll();
        this.#stats.lastError = (error as Error).message;
        if (error instanceof TidemarkError && error.code === ErrorCode.CLOSED) {
          this.#state = 'closed';
          break;
        }
        if (error instanceof TidemarkError && error.code === ErrorCode.REPLICATION_FENCED) {
          this.#fenced(error);
          break;
        }
        if (error instanceof TidemarkError && error.code === ErrorCode.CHANGES_EXPIRED) {
          await this.expired().catch((e: Error) => {
            this.#stats.lastError = e.message;
          });
        }
        this.#stats.retries++;
        this.#state = 'retrying';
        await this.#pause(RETRY_MS);
      } finally {
        await this.#feed?.return?.();
        this.#feed = null;
      }
    }
    await this.#settleAll();
    if (this.#fenceError !== null) this.#fenced(this.#fenceError);
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Reads where the stream ends (stream_end.ts): the commitTs shipping goes on after. FENCED when it is not ours to extend. */
  async #resync(): Promise<number> {
    const end = await readStreamEnd(this.link, this.port, this.writer, this.#streamSeq, this.term, this.cursor);
    // Past the stream's end, shipping starts at the checkpoint the WAL made necessary: an empty group says so.
    this.#floorMark = this.floor > end.position ? this.floor : 0;
    const position = Math.max(end.position, this.floor);
    this.#streamSeq = end.lastSeq;
    this.#expectSeq = end.lastSeq;
    this.#lastMsgID = null;
    this.#shippedTs = Math.max(this.#shippedTs, position);
    this.groups.push({ last: position, seq: end.lastSeq });
    this.waiters.advance(this.#shippedTs);
    this.#resyncedNow();
    return position;
  }

  /** Ships the records after `position` until closed or broken: each group is what was durable when it was read. */
  async #ship(position: number): Promise<void> {
    const feed = this.port.records(position, this.cursor);
    this.#feed = feed;
    // An empty group opens a term (nothing is acknowledged before it is in the stream), and replicas behind a
    // floor see a gap in it and bootstrap from the checkpoint, even if no commit follows.
    if (this.#floorMark > 0 || (this.term !== null && !this.#isOpen)) {
      const mark = Math.max(this.#floorMark, position);
      await this.#send(mark, mark, 0, new Uint8Array(0), this.port.walBytes);
      while (this.#inFlight.length > 0) await this.#inFlight[0]!.settled;
      this.#checkBroken();
    }
    this.#floorMark = 0;
    this.#isOpen = true;
    this.#openedNow();
    let after = position;
    for (;;) {
      const batch = await Promise.race([feed.nextBatch(this.options.groupBytes), this.#interrupt]);
      if (batch === undefined) {
        this.#checkBroken();
        return;
      }
      if (batch === null || this.#state === 'closed') return;
      this.#checkBroken();
      const last = batch.at(-1)!;
      await this.#send(after, last.commitTs, crc32(last.body), framed(batch), this.port.walBytes);
      after = last.commitTs;
    }
  }

  #checkBroken(): void {
    if (this.#broken !== null) {
      const error = this.#broken;
      this.#broken = null;
      throw error;
    }
  }

  /** Publishes a group; `walBytes` is port.walBytes when it was read (the backlog counts from it once acknowledged). */
  async #send(after: number, last: number, digest: number, payload: Uint8Array, walBytes: number): Promise<void> {
    const epoch = this.term?.epoch ?? 0;
    const header = { databaseId: this.port.databaseId, writer: this.writer, after, last, digest, epoch };
    const chunks = chunksOf(header, payload, this.options.chunkBytes);
    for (const chunk of chunks) {
      while (this.#inFlight.length >= this.options.maxInFlight) await this.#inFlight[0]!.settled;
      this.#checkBroken();
      if (this.term?.live !== undefined && !this.term.live())
        throw new TidemarkError(ErrorCode.REPLICATION_FENCED, `this primary's lease lapsed: it appends nothing more`);
      const expected = this.#expectSeq++;
      // Pipelined, a publish must follow this writer's previous one, not merely sit at its sequence: had that one
      // been refused because another writer appended there, `lastSequence` alone would let this one through.
      const previous = this.#lastMsgID;
      this.#lastMsgID = chunk.msgID;
      const pub = this.link.js.publish(this.link.subject, chunk.payload, {
        msgID: chunk.msgID,
        expect: previous === null ? { lastSequence: expected } : { lastSequence: expected, lastMsgID: previous },
        headers: chunk.headers,
        timeout: Math.min(PUBLISH_TIMEOUT_MS, this.options.replicationTimeoutMs),
      });
      const bytes = chunk.payload.length;
      const lastChunk = chunk.index === chunk.count - 1;
      const entry: InFlight = {
        bytes,
        settled: pub.then(
          (ack) => this.#acked(ack, lastChunk ? last : 0, bytes, walBytes),
          (error: Error) => {
            // Refused by expect.lastSequence: not stored. Anything else (a timeout, a lost connection): unknown.
            if (!isWrongLastSequence(error)) this.#unknownTs = Math.max(this.#unknownTs, last);
            this.#broken ??= error;
            this.#interrupted();
          },
        ),
      };
      entry.settled = entry.settled.finally(() => {
        this.#inFlightBytes -= bytes;
        const at = this.#inFlight.indexOf(entry);
        if (at >= 0) this.#inFlight.splice(at, 1);
      });
      this.#inFlight.push(entry);
      this.#inFlightBytes += bytes;
    }
  }

  #acked(ack: PubAck, last: number, bytes: number, walBytes: number): void {
    this.#stats.messages++;
    this.#stats.bytes += bytes;
    if (ack.seq > this.#streamSeq) this.#streamSeq = ack.seq;
    if (last === 0) return;
    // A later chunk is stored only after every earlier one (expect.lastSequence): its ack covers them.
    if (last > this.#shippedTs) {
      this.#shippedTs = last;
      this.#backlog.acked(walBytes);
      this.groups.push({ last, seq: ack.seq });
      if (this.groups.length > 4096) this.groups.splice(0, 2048);
      this.waiters.advance(last);
    }
    const now = Date.now();
    if (now - this.#ackedAt >= CURSOR_ACK_MS && this.#feed !== null) {
      this.#ackedAt = now;
      this.#feed.ack(last);
    }
  }

  async #settleAll(): Promise<void> {
    while (this.#inFlight.length > 0) await this.#inFlight[0]!.settled;
    this.#broken = null;
  }

  /** The stream sequence below which no message holds a commit after `commitTs`. */
  coveredSeq(commitTs: number): number {
    let seq = 0;
    for (const g of this.groups) if (g.last <= commitTs && g.seq > seq) seq = g.seq;
    return seq;
  }
}

/** JetStream's refusal of a publish whose expectation no longer holds (API errors 10071, 10070): not stored. */
function isWrongLastSequence(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; code?: number; message?: string };
  const code = e?.api_error?.err_code ?? e?.code;
  return code === 10071 || code === 10070 || /wrong last (sequence|msg ?id)/i.test(e?.message ?? '');
}
