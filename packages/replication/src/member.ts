/**
 * joinCluster(options): one node of a database's cluster with failover.
 * Every node follows the stream as a replica, but for the one holding the
 * lease (lease.ts), which writes; when the lease lapses a replica takes it
 * and promotes itself, or `promote()` does so by hand.
 *
 *   replica ─► caught up with the stream's end ─► lease, epoch + 1 ─► stop following
 *      ▲           ─► ship from its own log: an empty group with expect.lastSequence opens the term
 *      │           ─► in the stream: writable, the primary   (refused: back to following)
 *      │
 *   primary ─► lease lost, or an append refused (fenced) ─► read-only, waiting commits fail with
 *              REPLICATION_FENCED ─► its log past the stream discarded: bootstraps again as a replica
 *
 * A brand-new stream (no checkpoint yet) is started by the first node to
 * take the lease, from its own directory.
 */
import { rmSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Database, ErrorCode, open, replicationPort, TidemarkError } from '@tidemark/core';
import { Lease, type LeaseHolder } from './lease.js';
import { connectOptions, type FilledMember, fillMember, type MemberOptions, waitArguments } from './options.js';
import { Replication } from './primary.js';
import { caughtUp, freshStream, termOpened, wasPrimary } from './node_checks.js';
import { PromoteRequests } from './promote_request.js';
import type { MemberStats, Role } from './member_stats.js';
import { Replica } from './replica.js';
import { retrying } from './retry.js';

export type { MemberStats, Role } from './member_stats.js';

/** How long a promoted node waits at least for its term's opening group to be in the stream. */
const OPEN_MS = 15_000;

const lapsed = (node: string) =>
  new TidemarkError(ErrorCode.STALE, `node ${node}'s lease lapsed: it may lack the newest commits`);

export class Member {
  #role: Role = 'replica';
  #replica: Replica | null = null;
  #replication: Replication | null = null;
  #db: Database | null = null;
  #timer: NodeJS.Timeout | null = null;
  #renewTimer: NodeJS.Timeout | null = null;
  #renewing = false;
  #busy: Promise<unknown> = Promise.resolve();
  #watchers = new Set<(holder: LeaseHolder | null) => void>();
  #stats = { promotions: 0, stepDowns: 0, discardedTs: 0, lastPromotionMs: null as number | null };
  #lastError: string | null = null;
  /** The transition under way (for stats): what a stuck node is stuck in. */
  #phase: string | null = null;

  private constructor(
    private readonly o: FilledMember,
    private readonly nc: NatsConnection,
    private readonly lease: Lease,
    /** Promotions asked from outside (`tidemark-replication promote`). */
    private readonly requests: PromoteRequests,
  ) {}

  static async join(options: MemberOptions): Promise<Member> {
    const o = fillMember(options);
    const nc = await connect(connectOptions(o.replica, `tidemark-node-${o.node}`));
    try {
      const copies = o.replicate.replicas ?? 3;
      // The buckets may take a while to answer while a NATS node restarts or a leader is elected.
      const lease = await retrying(() => Lease.open(nc, o.replica.stream, o.node, o.leaseMs, copies));
      const requests = await retrying(() => PromoteRequests.open(nc, o.replica.stream, copies));
      const member = new Member(o, nc, lease, requests);
      // Renewals run apart from the transitions (a promotion's checkpoint upload may take longer than the lease).
      member.#renewTimer = setInterval(() => member.#renew(), Math.max(50, Math.floor(o.leaseMs / 3)));
      member.#renewTimer.unref();
      try {
        await member.#start();
      } catch (error) {
        clearInterval(member.#renewTimer);
        throw error;
      }
      member.#timer = setInterval(() => member.#tick(), Math.max(50, Math.floor(o.leaseMs / 4)));
      member.#timer.unref();
      return member;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  get role(): Role {
    return this.#role;
  }

  /** This node's database: writable while it is the primary, a replica's read-only one otherwise. */
  get db(): Database {
    const db = this.#replica?.db ?? this.#db;
    if (db === null)
      throw this.#role === 'closed'
        ? new TidemarkError(ErrorCode.CLOSED, 'the node is closed')
        : new TidemarkError(ErrorCode.REPLICATION_UNAVAILABLE, 'the node is joining as a replica again');
    return db;
  }

  /** Who writes, as last read from the lease. */
  primary(): LeaseHolder | null {
    return this.lease.holder;
  }

  /** Calls `listener` each time the lease changes hands; returns the function that stops it. */
  watchPrimary(listener: (holder: LeaseHolder | null) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /**
   * Resolves once this node has applied (or made) commit `token`, answering only from a prefix of the stream: a
   * replica, or a primary inside its lease (out of it, STALE: its commits past the stream may stand where the next
   * primary's are). Between roles (stepping down, promoting) it waits for the next one, up to `timeoutMs`.
   */
  async waitFor(token: number, options?: { timeoutMs?: number }): Promise<void> {
    const deadline = performance.now() + waitArguments(token, options);
    for (;;) {
      const replica = this.#replica;
      const timeoutMs = Math.max(0, Math.ceil(deadline - performance.now()));
      if (replica !== null) {
        try {
          return await replica.waitFor(token, { timeoutMs });
        } catch (error) {
          // The replica stopped following (promoted, or failed and starting over): the next one answers.
          const failed = replica.stats().state === 'failed';
          if ((this.#replica === replica && !failed) || timeoutMs === 0) throw error;
          if (failed) await new Promise((resolve) => setTimeout(resolve, Math.min(20, timeoutMs)));
          continue;
        }
      }
      if (this.#role === 'closed') throw new TidemarkError(ErrorCode.CLOSED, 'the node is closed');
      if (this.#role === 'primary' && this.#replication !== null && this.#db !== null) {
        if (this.lease.held === null) throw lapsed(this.o.node);
        if (token <= replicationPort(this.#db).commitTs) return;
        throw new TidemarkError(ErrorCode.REPLICATION_UNAVAILABLE, `this primary has no commit ${token}`);
      }
      if (timeoutMs === 0)
        throw new TidemarkError(
          ErrorCode.STALE,
          `node ${this.o.node} is changing roles (${this.#phase ?? 'between roles'})`,
        );
      await new Promise((resolve) => setTimeout(resolve, Math.min(20, timeoutMs)));
    }
  }

  stats(): MemberStats {
    return {
      role: this.#role,
      node: this.o.node,
      primary: this.lease.holder,
      ...this.#stats,
      phase: this.#phase,
      lastError: this.#lastError,
    };
  }

  /** Promotes this replica now, taking the lease from its holder whatever its state (the holder is taken to be gone). */
  promote(): Promise<void> {
    return this.#serial(async () => {
      if (this.#role === 'primary') return;
      if (this.#role === 'closed') throw new TidemarkError(ErrorCode.CLOSED, 'the node is closed');
      if (!(await this.#promote(true))) throw new TidemarkError(ErrorCode.REPLICATION_FENCED, this.#lastError ?? '');
    });
  }

  async close(): Promise<void> {
    if (this.#role === 'closed') return;
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#renewTimer !== null) clearInterval(this.#renewTimer);
    await this.#serial(async () => {
      this.#role = 'closed';
      await this.#replica?.close();
      await this.#replication?.close();
      await this.lease.release().catch(() => {});
      if (this.#db !== null && !this.#db.closed) await this.#db.close();
    });
    await this.nc.close();
  }

  /** A transition started by a timer or an event: its failure is kept in lastError (a tick goes on from there). */
  #background(step: () => Promise<unknown>): void {
    this.#serial(step).catch((error: Error) => {
      this.#lastError = error.message;
    });
  }

  /** Transitions run one at a time. */
  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(step).finally(() => {
      this.#phase = null;
    });
    this.#busy = run.catch(() => {});
    return run;
  }

  async #start(): Promise<void> {
    // primary() answers from the first moment: the lease as it stands.
    await this.lease.read();
    const fresh = await freshStream(this.o.replica, this.o.node);
    if (fresh && (await this.lease.acquire()) !== null) {
      const db = await open({ ...(this.o.replica.open ?? {}), dir: this.o.dir });
      this.#db = db;
      if (await this.#lead(db, null)) return;
      await db.close();
      this.#db = null;
      await this.lease.release().catch(() => {});
      throw new TidemarkError(
        ErrorCode.REPLICATION_UNAVAILABLE,
        `node ${this.o.node} could not start the stream: ${this.#lastError}`,
      );
    }
    // A directory this node once wrote as a primary may hold commits the stream never got: it starts over.
    if (wasPrimary(this.o.dir, this.o.replica.stream)) rmSync(this.o.dir, { recursive: true, force: true });
    this.#replica = await Replica.open(this.o.replica);
  }

  /** Renews the lease while this node holds it; a primary whose lease is gone steps down. */
  #renew(): void {
    if (this.#renewing) return;
    this.#renewing = true;
    const renewal = this.lease.held !== null ? this.lease.renew() : Promise.resolve(false);
    renewal
      .then((held) => {
        if (!held && this.#role === 'primary') this.#background(() => this.#stepDown('the lease was lost'));
      })
      .catch((error: Error) => {
        this.#lastError = error.message;
      })
      .finally(() => {
        this.#renewing = false;
      });
  }

  #tick(): void {
    void this.#serial(async () => {
      const before = this.lease.holder;
      if (this.#role === 'primary') {
        if (this.lease.held === null) await this.#stepDown('the lease ran out');
      } else if (this.#role === 'replica' && this.#replica === null) {
        this.#replica = await Replica.open(this.o.replica);
      } else if (this.#role === 'replica' && this.#replica!.stats().state === 'failed') {
        // A replica that found the stream at odds with its database (CORRUPT) starts over from the object store.
        const failed = this.#replica!;
        this.#lastError = failed.stats().lastError;
        this.#replica = null;
        await failed.close().catch(() => {});
        rmSync(this.o.dir, { recursive: true, force: true });
        this.#replica = await Replica.open(this.o.replica);
      } else if (this.#role === 'replica') {
        await this.lease.read();
        const seen = this.lease.holder;
        const lapsed = seen === null || seen.released === true || this.lease.expired;
        if (this.o.autoPromote && lapsed) await this.#promote(false);
        else if ((await this.requests.asked()) === this.o.node) {
          await this.requests.clear();
          await this.#promote(true);
        }
      }
      const after = this.lease.holder;
      if (before?.node !== after?.node || before?.epoch !== after?.epoch)
        for (const listener of this.#watchers) listener(after);
    }).catch((error: Error) => {
      this.#lastError = error.message;
    });
  }

  /** Replica to primary (see the diagram); false when another node holds the lease or the stream moved on. */
  async #promote(force: boolean): Promise<boolean> {
    this.#phase = 'promoting: catching up';
    const started = performance.now();
    const replica = this.#replica!;
    if (
      !(await caughtUp(this.nc, this.o.replica.stream, replica, (m) => {
        this.#lastError = m;
      }))
    )
      return false;
    const before = this.lease.holder;
    const taken = performance.now();
    if ((await this.lease.acquire(force)) === null) {
      this.#lastError = `node ${this.lease.holder?.node} holds the lease`;
      return false;
    }
    // Taken by force from a holder that may be alive: it appends until its own lease time is up (at most leaseMs
    // from now, as it last renewed before this take). Following meanwhile, this node then applies all it appended.
    if (force && before !== null && before.released !== true && before.node !== this.o.node) {
      this.#phase = 'promoting: waiting out the old lease';
      while (performance.now() - taken < this.o.leaseMs) await new Promise((resolve) => setTimeout(resolve, 20));
      if (
        !(await caughtUp(this.nc, this.o.replica.stream, replica, (m) => {
          this.#lastError = m;
        }))
      )
        return this.#giveUp();
    }
    this.#phase = 'promoting: stopping to follow';
    const { db, appliedSeq } = await replica.detach();
    this.#replica = null;
    this.#db = db;
    if (await this.#lead(db, appliedSeq)) {
      this.#stats.lastPromotionMs = performance.now() - started;
      return true;
    }
    // The stream moved on, or another node's term began: follow again from where this replica stood.
    await this.lease.release().catch(() => {});
    this.#db = null;
    await db.close();
    this.#replica = await Replica.open(this.o.replica);
    return false;
  }

  /** A promotion that took the lease and cannot go on: the lease goes back, for another node to take. */
  async #giveUp(): Promise<false> {
    await this.lease.release().catch(() => {});
    return false;
  }

  /** Ships `db`'s log in the lease's epoch; writable once the term's opening group is in the stream. */
  async #lead(db: Database, appliedSeq: number | null): Promise<boolean> {
    const held = this.lease.held;
    if (held === null) return false;
    this.#phase = 'opening a term';
    const live = () => this.lease.held?.epoch === held.epoch;
    let replication: Replication;
    try {
      replication = await Replication.start(db, { ...this.o.replicate }, { epoch: held.epoch, appliedSeq, live });
    } catch (error) {
      this.#lastError = (error as Error).message;
      return false;
    }
    // The term opens, or is refused, or does not open in time (the stream away, the lease lost meanwhile).
    const opened = await termOpened(replication, live, Math.max(OPEN_MS, 3 * this.o.leaseMs), (why) => {
      this.#lastError = why ?? `the term of epoch ${held.epoch} did not open in time, or its lease lapsed first`;
    });
    if (!opened || this.lease.held?.epoch !== held.epoch) {
      replication.onFenced = null;
      replication.fence(new TidemarkError(ErrorCode.REPLICATION_FENCED, this.#lastError ?? 'the term did not open'));
      await replication.close();
      return false;
    }
    const port = replicationPort(db);
    port.becomePrimary();
    // With a staleness bound, a primary out of its lease refuses reads as a cut-off replica does.
    if (this.o.replica.maxStalenessMs !== undefined)
      port.setReadCheck(() => {
        if (this.lease.held?.epoch !== held.epoch) throw lapsed(this.o.node);
      });
    replication.onFenced = (error) => {
      this.#background(() => this.#stepDown(error.message));
    };
    this.#replication = replication;
    this.#role = 'primary';
    this.#stats.promotions++;
    return true;
  }

  /** Primary to replica: stops acknowledging at once, discards its log past the stream, bootstraps again. */
  async #stepDown(reason: string): Promise<void> {
    const replication = this.#replication;
    const db = this.#db;
    if (this.#role !== 'primary' || replication === null || db === null) return;
    this.#lastError = reason;
    const error = new TidemarkError(
      ErrorCode.REPLICATION_FENCED,
      `node ${this.o.node} stopped being the primary: ${reason}`,
    );
    this.#phase = 'stepping down';
    replication.fence(error);
    const port = replicationPort(db);
    port.refuseWrites(error.message);
    // Its commits past the stream are about to be discarded: nobody reads them meanwhile.
    port.setReadCheck(() => {
      throw new TidemarkError(ErrorCode.STALE, `node ${this.o.node} is stepping down: ${reason}`);
    });
    this.#stats.stepDowns++;
    this.#role = 'replica';
    this.#replication = null;
    this.#db = null;
    await replication.close();
    this.#stats.discardedTs += Math.max(0, replicationPort(db).commitTs - replication.stats().shippedTs);
    await this.lease.release().catch(() => {});
    await db.close();
    rmSync(this.o.dir, { recursive: true, force: true });
    this.#phase = 'joining as a replica';
    this.#replica = await Replica.open(this.o.replica);
  }
}

/** Joins (or starts) the cluster of `options.stream` as node `options.node` (see Member). */
export function joinCluster(options: MemberOptions): Promise<Member> {
  return Member.join(options);
}
