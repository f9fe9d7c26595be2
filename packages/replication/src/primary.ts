/**
 * replicate(db, options): the primary ships its log to the database's
 * stream (shipper.ts), puts a checkpoint into the object store at start
 * (when it holds none), every `checkpointIntervalMs` and on call, trims the
 * stream below the oldest checkpoint kept, and makes `durability:
 * 'replicated'` commits wait for the stream.
 */
import { type Database, ErrorCode, replicationPort, TidemarkError } from '@tidemark/core';
import { CheckpointStore, type Manifest } from './checkpoints.js';
import { linkStream, type StreamLink } from './connection.js';
import { fillReplicate, type FilledReplicate, type ReplicateOptions } from './options.js';
import { retrying } from './retry.js';
import { Shipper, type ShipperStats } from './shipper.js';
import type { Term } from './stream_end.js';

export interface ReplicationStats extends ShipperStats {
  /** The newest checkpoint in the object store: its commitTs and the stream sequence it covers. */
  checkpoint: { commitTs: number; streamSeq: number; time: number } | null;
  /** `replicated` commits waiting for the stream. */
  waiting: number;
}

export class Replication {
  #checkpoint: Manifest | null = null;
  #checkpointing: Promise<Manifest> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(
    private readonly db: Database,
    private readonly link: StreamLink,
    private readonly checkpoints: CheckpointStore,
    private readonly shipper: Shipper,
    private readonly options: FilledReplicate,
    private readonly term: Term | null,
  ) {}

  /**
   * Starts shipping `db`'s log (see replicate()). With a `term` (failover:
   * the lease's epoch), every message carries the epoch, the term opens with
   * an empty group, and no commit is acknowledged once the lease is gone.
   */
  static async start(db: Database, options: ReplicateOptions, term: Term | null = null): Promise<Replication> {
    const o = fillReplicate(options);
    const port = replicationPort(db);
    const link = await linkStream(o, `tidemark-primary-${port.databaseId}`, o.replicas);
    const checkpoints = new CheckpointStore(link.store);
    let replication: Replication | null = null;
    const shipper = new Shipper(port, link, o, `replication:${o.stream}`, term, async () => {
      const manifest = await replication!.#upload(false);
      shipper.floor = Math.max(shipper.floor, manifest.commitTs);
    });
    replication = new Replication(db, link, checkpoints, shipper, o, term);
    port.attach({
      whenReplicated: async (commitTs) => {
        if (shipper.state === 'fenced')
          throw new TidemarkError(ErrorCode.REPLICATION_FENCED, 'this node is no longer the primary: nothing is sent');
        await shipper.waiters.wait(commitTs);
        // The stream holds it, before the next term's first message: the next primary has it. But this node's
        // lease is gone, and a node out of its lease acknowledges nothing.
        if (term?.live !== undefined && !term.live())
          throw new TidemarkError(
            ErrorCode.REPLICATION_UNAVAILABLE,
            `the stream holds commit ${commitTs}, but this node's lease lapsed before it was acknowledged: the next primary has it`,
          );
      },
    });
    try {
      const kept = await checkpoints.manifests();
      replication.#checkpoint = kept.at(-1) ?? null;
      if (replication.#checkpoint === null) await replication.#upload(false);
    } catch (error) {
      await replication.close();
      throw error;
    }
    if (o.checkpointIntervalMs > 0) {
      replication.#timer = setInterval(() => {
        replication.checkpoint().catch(() => {});
      }, o.checkpointIntervalMs);
      replication.#timer.unref();
    }
    return replication;
  }

  /**
   * Puts a checkpoint of the database into the object store now (one at a
   * time: a call during one gets that one), then deletes all but the newest
   * `keepCheckpoints` and trims the stream below the oldest kept.
   */
  checkpoint(): Promise<Manifest> {
    return this.#upload(true);
  }

  /**
   * A checkpoint's manifest names only commits the stream holds in a live
   * term: with `shipped`, its commitTs must be acknowledged by the stream
   * first (a primary cut off with commits past the stream would otherwise
   * put them where a new replica bootstraps from). Without it (the first
   * checkpoint, and the one a released backlog needs, which the stream then
   * reaches by an empty group), only the lease is checked.
   */
  #upload(shipped: boolean): Promise<Manifest> {
    this.#checkpointing ??= this.#uploadNow(shipped).finally(() => {
      this.#checkpointing = null;
    });
    return this.#checkpointing;
  }

  async #uploadNow(shipped: boolean): Promise<Manifest> {
    // The stream's end must be known first: a checkpoint names the sequence it covers.
    await this.shipper.resynced;
    const manifest = await this.checkpoints.upload(
      this.db,
      this.options.checkpointBytesPerSecond,
      (ts) => this.shipper.coveredSeq(ts),
      async (ts) => {
        if (shipped) await this.shipper.waiters.wait(ts);
        if (this.term?.live !== undefined && !this.term.live())
          throw new TidemarkError(
            ErrorCode.REPLICATION_FENCED,
            `this node's lease lapsed: checkpoint ${ts} is not put`,
          );
      },
    );
    this.#checkpoint = manifest;
    const oldest = await this.checkpoints.prune(this.options.keepCheckpoints);
    if (oldest !== null && oldest.streamSeq > 0)
      await retrying(() => this.link.jsm.streams.purge(this.link.stream, { seq: oldest.streamSeq + 1 }));
    return manifest;
  }

  /** Resolves once shipping runs: with a term, once its opening group is in the stream (writes may be taken from then). */
  get opened(): Promise<void> {
    return this.shipper.opened;
  }

  /** Stops shipping for good: `replicated` commits waiting fail with `error` (REPLICATION_FENCED). */
  fence(error: TidemarkError): void {
    this.shipper.fence(error);
  }

  /** Told once if shipping stops for good because the stream is not this primary's to extend. */
  set onFenced(listener: ((error: TidemarkError) => void) | null) {
    this.shipper.onFenced = listener;
  }

  stats(): ReplicationStats {
    const c = this.#checkpoint;
    return {
      ...this.shipper.stats(),
      checkpoint: c === null ? null : { commitTs: c.commitTs, streamSeq: c.streamSeq, time: c.time },
      waiting: this.shipper.waiters.waiting,
    };
  }

  /** Stops shipping (commits still waiting fail with REPLICATION_UNAVAILABLE) and disconnects; the database stays open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    if (!this.db.closed) replicationPort(this.db).attach(null);
    // Shipping stops first: a checkpoint waiting for the stream (never resynced, say) then fails instead of hanging.
    await this.shipper.close();
    await this.#checkpointing?.catch(() => {});
    await this.link.close();
  }
}

/**
 * Ships `db`'s log through NATS JetStream (docs/REPLICATION.md): resolves
 * once the stream and object store exist and a first checkpoint is there.
 */
export function replicate(db: Database, options: ReplicateOptions): Promise<Replication> {
  return Replication.start(db, options);
}
