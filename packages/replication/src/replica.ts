/**
 * openReplica(options): a database that follows a primary's stream. A new
 * replica bootstraps from the newest checkpoint in the object store (its
 * files loaded by an ordinary open(): the parallel local recovery) and
 * follows the stream from the sequence the checkpoint covers; an existing
 * one recovers its own directory and resumes after the commit it applied
 * last. Each group of records is applied in order, at the primary's
 * commitTs (core's replica/apply_record.ts), through the replica's own WAL.
 *
 *   bootstrap or recover ─► find the resume sequence ─► ordered consumer ─► join chunks ─► check ─► apply
 *                                ▲                                                             │
 *                                └──────── a gap (the stream was trimmed past us): bootstrap ◄──┘
 */
import { rmSync } from 'node:fs';
import { type ConsumerMessages, DeliverPolicy } from '@nats-io/jetstream';
import { type Database, ErrorCode, open, type ReplicationPort, replicationPort, TidemarkError } from '@tidemark/core';
import { CheckpointStore, isEmptyDir } from './checkpoints.js';
import { linkStream, type StreamLink } from './connection.js';
import { fillReplica, type ReplicaOptions, waitArguments } from './options.js';
import { findResume } from './resume.js';
import { PositionWaiters } from './waiters.js';
import { forEachRecord, GroupAssembler, readChunk } from './wire.js';

export type ReplicaState = 'following' | 'bootstrapping' | 'failed' | 'closed';

export interface ReplicaStats {
  state: ReplicaState;
  databaseId: string;
  /** The newest commit applied here: reads see every commit up to it. */
  appliedTs: number;
  /** The stream sequence of the last message applied. */
  appliedSeq: number;
  /** Messages in the stream after the last one applied. */
  lagMessages: number;
  /** How long before it was applied the last message applied had been stored in the stream. */
  lagMs: number;
  groups: number;
  records: number;
  bytes: number;
  bootstraps: number;
  /** The epoch of the last message applied: the term of the primary that wrote it (0: no lease). */
  epoch: number;
  lastError: string | null;
}

const BOOTSTRAP_WAIT_MS = 60_000;
/** A consumer that hands out nothing this long while the stream holds more is started again. */
const STALL_MS = 5_000;
const RETRY_MS = 500;

export class Replica {
  #db: Database;
  #port: ReplicationPort;
  #state: ReplicaState = 'following';
  #messages: ConsumerMessages | null = null;
  /** The stream sequence following goes on from: after the last group applied. */
  #next = 0;
  readonly #waiters = new PositionWaiters(
    30_000,
    (ts, ms) =>
      new TidemarkError(ErrorCode.REPLICATION_UNAVAILABLE, `the replica did not apply commit ${ts} within ${ms} ms`),
  );
  #stats = { appliedSeq: 0, lagMessages: 0, lagMs: 0, groups: 0, records: 0, bytes: 0, bootstraps: 0, epoch: 0 };
  #lastError: string | null = null;
  readonly #done: Promise<void>;

  /** performance.now() when the replica last knew it held the whole stream (0: not yet). */
  #freshAt = 0;
  #probe: NodeJS.Timeout | null = null;

  private constructor(
    db: Database,
    private readonly link: StreamLink,
    private readonly checkpoints: CheckpointStore,
    private readonly options: ReplicaOptions,
    startSeq: number,
  ) {
    this.#db = db;
    this.#port = replicationPort(db);
    this.#bound();
    this.#done = this.#follow(startSeq);
  }

  /**
   * With options.maxStalenessMs: reads fail with STALE once the replica has
   * not known for that long that it held the whole stream. It knows so when
   * a message arrives with nothing pending after it, or when the stream's
   * last sequence, asked every quarter of the bound, is one it applied.
   */
  #bound(): void {
    const max = this.options.maxStalenessMs;
    if (max === undefined) return;
    this.#port.setReadCheck(() => {
      const age = performance.now() - this.#freshAt;
      if (this.#freshAt === 0 || age > max)
        throw new TidemarkError(
          ErrorCode.STALE,
          `this replica of stream "${this.link.stream}" ${this.#freshAt === 0 ? 'has not yet confirmed' : `last confirmed ${Math.round(age)} ms ago`} that it holds the whole stream, past options.maxStalenessMs (${max})`,
        );
    });
    if (this.#probe !== null) return;
    const ask = () => {
      const sentAt = performance.now();
      this.link.jsm.streams
        .info(this.link.stream)
        .then((info) => {
          // A leader cut off from its peers still answers: only one that heard from a majority lately counts.
          const peers = info.cluster?.replicas ?? [];
          const heard = peers.filter((p) => p.current && !p.offline && p.active / 1e6 < max).length;
          if ((1 + heard) * 2 <= 1 + peers.length) return;
          if (this.appliedSeq >= info.state.last_seq) this.#freshAt = Math.max(this.#freshAt, sentAt);
        })
        .catch(() => {});
    };
    ask();
    this.#probe = setInterval(ask, Math.max(20, Math.floor(max / 4)));
    this.#probe.unref();
  }

  static async open(options: ReplicaOptions): Promise<Replica> {
    const o = fillReplica(options);
    const link = await linkStream(o, `tidemark-replica-${o.stream}`, null);
    try {
      const checkpoints = new CheckpointStore(link.store);
      const { db, startSeq } = await Replica.#load(o, link, checkpoints);
      return new Replica(db, link, checkpoints, o, startSeq);
    } catch (error) {
      await link.close();
      throw error;
    }
  }

  /** Opens the replica's directory, bootstrapping it first when empty; returns where to follow from. */
  static async #load(
    o: ReplicaOptions,
    link: StreamLink,
    checkpoints: CheckpointStore,
  ): Promise<{ db: Database; startSeq: number; bootstrapped: boolean }> {
    let startSeq = -1;
    if (isEmptyDir(o.dir)) startSeq = await bootstrap(checkpoints, o.dir);
    const db = await open({ ...(o.open ?? {}), dir: o.dir });
    try {
      const port = replicationPort(db);
      port.becomeReplica(`this database is a replica of stream "${o.stream}": writes go to its primary`);
      if (startSeq < 0) startSeq = await findResume(link, port.commitTs);
      return { db, startSeq, bootstrapped: startSeq >= 0 };
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  /** close() was called (a method: the compiler narrows the field across awaits). */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** The replica's database: reads, scans, change feeds. A new object after a re-bootstrap. */
  get db(): Database {
    return this.#db;
  }

  /** Resolves once the replica has applied the commit `token` (a primary commit's commitTs): read-your-writes. */
  waitFor(token: number, options?: { timeoutMs?: number }): Promise<void> {
    const ms = waitArguments(token, options);
    if (token <= this.#port.commitTs) return Promise.resolve();
    if (this.#state === 'closed' || this.#state === 'failed')
      return Promise.reject(new TidemarkError(ErrorCode.REPLICATION_UNAVAILABLE, `the replica is ${this.#state}`));
    return this.#waiters.wait(token, ms);
  }

  stats(): ReplicaStats {
    return {
      state: this.#state,
      databaseId: this.#port.databaseId,
      appliedTs: this.#port.commitTs,
      ...this.#stats,
      lastError: this.#lastError,
    };
  }

  /** The stream sequence of the last message applied (or covered by the checkpoint it bootstrapped from). */
  get appliedSeq(): number {
    return Math.max(0, this.#next - 1);
  }

  /**
   * Stops following and hands the database over open (a promotion): the
   * replica is closed, `waitFor` calls still waiting fail.
   */
  async detach(): Promise<{ db: Database; appliedSeq: number }> {
    if (this.#state === 'closed') throw new TidemarkError(ErrorCode.CLOSED, 'the replica is closed');
    this.#state = 'closed';
    this.#stopProbe();
    this.#port.setReadCheck(null);
    this.#messages?.stop();
    await this.#done;
    this.#waiters.failAll(new TidemarkError(ErrorCode.REPLICATION_UNAVAILABLE, 'the replica stopped following'));
    this.#waiters.close();
    await this.link.close();
    return { db: this.#db, appliedSeq: this.appliedSeq };
  }

  #stopProbe(): void {
    if (this.#probe !== null) clearInterval(this.#probe);
    this.#probe = null;
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopProbe();
    this.#messages?.stop();
    await this.#done;
    this.#waiters.failAll(new TidemarkError(ErrorCode.REPLICATION_UNAVAILABLE, 'the replica was closed'));
    this.#waiters.close();
    await this.link.close();
    if (!this.#db.closed) await this.#db.close();
  }

  async #follow(startSeq: number): Promise<void> {
    let seq = startSeq;
    while (this.#state !== 'closed' && this.#state !== 'failed') {
      try {
        seq = await this.#consume(seq);
      } catch (error) {
        if (this.#isClosed()) break;
        seq = Math.max(seq, this.#next);
        this.#lastError = (error as Error).message;
        if (error instanceof Gap) {
          seq = await this.#rebootstrap().catch((e: Error) => {
            this.#lastError = e.message;
            return seq;
          });
          continue;
        }
        if (error instanceof TidemarkError && error.code === ErrorCode.CORRUPT) {
          this.#state = 'failed';
          this.#waiters.failAll(error);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Applies the stream's messages from `seq` on; returns the sequence to go on from when the consumer ends. */
  async #consume(seq: number): Promise<number> {
    const { js, stream } = this.link;
    const consumer = await js.consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, seq),
    });
    const messages = await consumer.consume();
    this.#messages = messages;
    // close() may have come while the consumer was being made: it found nothing to stop.
    if (this.#isClosed()) messages.stop();
    const assembler = new GroupAssembler();
    this.#next = seq;
    let lastAt = Date.now();
    // A consumer can stall across a node failure without a word: one quiet while the stream has more starts again.
    const watchdog = setInterval(() => {
      if (Date.now() - lastAt < STALL_MS) return;
      lastAt = Date.now();
      this.link.jsm.streams
        .info(stream)
        .then((info) => {
          if (info.state.last_seq >= this.#next) messages.stop();
        })
        .catch(() => {});
    }, STALL_MS / 2);
    try {
      await this.#apply(messages, assembler, () => {
        lastAt = Date.now();
      });
    } finally {
      clearInterval(watchdog);
    }
    return this.#next;
  }

  /** Applies each whole group; #next moves past a group once it is applied (a group cut by a restart is read again). */
  async #apply(messages: ConsumerMessages, assembler: GroupAssembler, seen: () => void): Promise<void> {
    const stream = this.link.stream;
    for await (const m of messages) {
      seen();
      if (this.#isClosed()) break;
      const where = `stream "${stream}" message ${m.seq}`;
      const chunk = readChunk(m.headers, m.data, where);
      if (chunk.header.databaseId !== this.#port.databaseId) {
        throw new TidemarkError(
          ErrorCode.CORRUPT,
          `${where} comes from database ${chunk.header.databaseId}, not from this replica's (${this.#port.databaseId})`,
        );
      }
      const group = assembler.add(chunk);
      if (group === null) continue;
      if (group.header.after > this.#port.commitTs) throw new Gap(group.header.after, this.#port.commitTs);
      forEachRecord(
        group.payload,
        (body) => {
          if (this.#port.apply(body) > 0) this.#stats.records++;
        },
        where,
      );
      this.#next = m.seq + 1;
      this.#stats.groups++;
      this.#stats.bytes += group.payload.length;
      this.#stats.appliedSeq = m.seq;
      if (m.info.pending === 0) this.#freshAt = performance.now();
      this.#stats.epoch = group.header.epoch;
      this.#stats.lagMessages = m.info.pending;
      this.#stats.lagMs = Math.max(0, Date.now() - m.info.timestampNanos / 1e6);
      this.#waiters.advance(this.#port.commitTs);
    }
  }

  /** The stream no longer holds what follows this replica: start again from the newest checkpoint. */
  async #rebootstrap(): Promise<number> {
    this.#state = 'bootstrapping';
    this.#stats.bootstraps++;
    await this.#db.close();
    rmSync(this.options.dir, { recursive: true, force: true });
    const { db, startSeq } = await Replica.#load(this.options, this.link, this.checkpoints);
    this.#db = db;
    this.#port = replicationPort(db);
    this.#bound();
    if (this.#state === 'bootstrapping') this.#state = 'following';
    this.#waiters.advance(this.#port.commitTs);
    return startSeq;
  }
}

/** The next group needs commits the replica does not have. */
class Gap extends Error {
  constructor(after: number, applied: number) {
    super(`the stream goes on after commit ${after}, but this replica applied up to ${applied}: it bootstraps again`);
  }
}

/** Downloads the newest checkpoint into `dir` (waiting for one to appear); returns the stream sequence to follow from. */
async function bootstrap(checkpoints: CheckpointStore, dir: string): Promise<number> {
  const deadline = Date.now() + BOOTSTRAP_WAIT_MS;
  for (;;) {
    const newest = (await checkpoints.manifests()).at(-1);
    if (newest !== undefined) {
      try {
        await checkpoints.download(newest, dir);
        return newest.streamSeq + 1;
      } catch (error) {
        rmSync(dir, { recursive: true, force: true });
        if (Date.now() > deadline) throw error;
      }
    } else if (Date.now() > deadline) {
      throw new TidemarkError(
        ErrorCode.REPLICATION_UNAVAILABLE,
        'the object store holds no checkpoint to bootstrap from',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/** Opens a replica (see Replica). */
export function openReplica(options: ReplicaOptions): Promise<Replica> {
  return Replica.open(options);
}
