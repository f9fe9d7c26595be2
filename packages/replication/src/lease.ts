/**
 * Who may try to write a database's stream: a lease in the JetStream
 * key-value bucket `<stream>_lease`, key `primary`, value `{ node, epoch }`.
 * It is taken and renewed by compare-and-set on the key's revision, so two
 * nodes never both take it from the same state. It expires after `leaseMs`
 * without a renewal, measured by each node on its own monotonic clock (no
 * clock is compared with another's):
 *
 *   holder: renews every leaseMs / 3; holds it until `sentAt + leaseMs`
 *           of its last renewal that succeeded (sentAt: when it was sent)
 *   other:  sees the same revision for leaseMs (from when it first saw it)
 *           ─► takes it with epoch + 1, compare-and-set on that revision
 *
 * A renewal's write lands after it was sent, and another node starts
 * counting only once it has read that write, so the holder's time is up
 * before anyone else may take the lease. The lease decides who may try;
 * the stream's `expect.lastSequence` decides who can append.
 */
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, TidemarkError } from '@tidemark/core';

export interface LeaseHolder {
  /** The node's name (options.node). */
  node: string;
  /** Grows by one with each new holder: a term. */
  epoch: number;
  /** Given up by its holder (release()): free to take at once, the epoch going on from it. */
  released?: boolean;
}

/** The lease's key and its revision when last read. */
interface Seen {
  holder: LeaseHolder | null;
  revision: number;
  /** performance.now() when this revision was first read here. */
  since: number;
}

const KEY = 'primary';
/** Tries of a forced take (promote()) that lose a race to the holder's renewal. */
const FORCE_ATTEMPTS = 10;

export class Lease {
  #seen: Seen = { holder: null, revision: 0, since: 0 };
  /** Until when (performance.now()) this node holds the lease; 0 when it does not. */
  #until = 0;
  #held: LeaseHolder | null = null;

  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly subject: string,
    readonly node: string,
    readonly leaseMs: number,
  ) {}

  /** The lease bucket of `stream` (made with `replicas` copies when missing). */
  static async open(nc: NatsConnection, stream: string, node: string, leaseMs: number, replicas = 3): Promise<Lease> {
    const bucket = `${stream}_lease`;
    // Reads go to the bucket's leader: a direct get may be served by a replica that lags, and show an old revision.
    const kv = await new Kvm(nc).create(bucket, { history: 1, replicas, allow_direct: false });
    return new Lease(kv, jetstream(nc), `$KV.${bucket}.${KEY}`, node, leaseMs);
  }

  /**
   * Writes the key if the bucket's last revision is still `revision` (0: none
   * yet). The bucket holds this one key, so its stream's last sequence is the
   * key's revision: `expect.lastSequence` is the compare-and-set, the check
   * measured to fence racing writers on a clustered stream.
   */
  async #put(value: LeaseHolder, revision: number): Promise<number> {
    const ack = await this.js.publish(this.subject, JSON.stringify(value), { expect: { lastSequence: revision } });
    return ack.seq;
  }

  /** The holder this node holds the lease as, while its time is not up; null otherwise. */
  get held(): LeaseHolder | null {
    return this.#held !== null && performance.now() < this.#until ? this.#held : null;
  }

  /** The lease as last read (its holder may have let it expire). */
  get holder(): LeaseHolder | null {
    return this.#seen.holder;
  }

  /** Whether the lease as last read has gone unrenewed for leaseMs, as seen from here. */
  get expired(): boolean {
    return this.#seen.since > 0 && performance.now() - this.#seen.since >= this.leaseMs;
  }

  /** Reads the lease; a new revision restarts the expiry count. */
  async read(): Promise<Seen> {
    const entry = await this.kv.get(KEY);
    const revision = entry === null || entry.operation !== 'PUT' ? 0 : entry.revision;
    if (revision !== this.#seen.revision || this.#seen.since === 0) {
      const holder = revision === 0 ? null : parseHolder(entry!.string());
      this.#seen = { holder, revision, since: performance.now() };
    }
    return this.#seen;
  }

  /**
   * Takes the lease with the next epoch if it is free, or expired as seen
   * from here, or `force` (a promotion by hand: the holder is taken to be
   * gone). Returns the new holder, or null when another node holds it.
   */
  async acquire(force = false): Promise<LeaseHolder | null> {
    // Forced, a race lost to the holder's renewal is tried again on what it wrote.
    for (let attempt = 1; ; attempt++) {
      const taken = await this.#acquireOnce(force);
      if (taken !== null || !force || attempt >= FORCE_ATTEMPTS) return taken;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async #acquireOnce(force: boolean): Promise<LeaseHolder | null> {
    const seen = await this.read();
    const expired = performance.now() - seen.since >= this.leaseMs;
    const mine = seen.holder?.node === this.node;
    const free = seen.holder === null || seen.holder.released === true;
    if (!free && !expired && !mine && !force) return null;
    const holder = { node: this.node, epoch: (seen.holder?.epoch ?? 0) + 1 };
    const sentAt = performance.now();
    try {
      const revision = await this.#put(holder, seen.revision);
      this.#seen = { holder, revision, since: performance.now() };
    } catch (error) {
      if (isRaceLost(error)) return null;
      throw error;
    }
    this.#held = holder;
    this.#until = sentAt + this.leaseMs;
    return holder;
  }

  /** Renews the lease this node holds; false (and no longer held) when another node took it or its time ran out. */
  async renew(): Promise<boolean> {
    const held = this.held;
    if (held === null) {
      await this.read().catch(() => {});
      return this.#lose();
    }
    const sentAt = performance.now();
    try {
      const revision = await this.#put(held, this.#seen.revision);
      this.#seen = { holder: held, revision, since: performance.now() };
    } catch (error) {
      if (!isRaceLost(error)) throw error;
      await this.read().catch(() => {});
      return this.#lose();
    }
    if (this.#held === null) return false;
    this.#until = sentAt + this.leaseMs;
    return true;
  }

  /** Gives the lease up at once (a clean stop): others may take it without waiting leaseMs. */
  async release(): Promise<void> {
    const held = this.held;
    if (held === null) return;
    this.#lose();
    await this.#put({ ...held, released: true }, this.#seen.revision).catch(() => {});
  }

  #lose(): false {
    this.#held = null;
    this.#until = 0;
    return false;
  }
}

function parseHolder(text: string): LeaseHolder {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  const v = value as Partial<LeaseHolder> | null;
  if (v === null || typeof v.node !== 'string' || !Number.isSafeInteger(v.epoch) || (v.epoch as number) < 1)
    throw new TidemarkError(ErrorCode.CORRUPT, `the lease holds ${JSON.stringify(text)}, not { node, epoch }`);
  return v.released === true
    ? { node: v.node, epoch: v.epoch as number, released: true }
    : { node: v.node, epoch: v.epoch as number };
}

/** The compare-and-set lost: another node wrote the key first (JetStream's "wrong last sequence"). */
function isRaceLost(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(e?.message ?? '');
}
