/**
 * Waits for a position in commitTs order (a `replicated` commit for the
 * stream, a replica's read for its applied commits): each resolves once the
 * position reaches it, or fails after its timeout (one sweep timer for all, not
 * a timer per commit).
 */
import { ErrorCode, TidemarkError } from '@tidemark/core';

interface Waiter {
  ts: number;
  ms: number;
  deadline: number;
  resolve: () => void;
  reject: (error: Error) => void;
  done: boolean;
}

const SWEEP_MS = 100;

function commitTimedOut(ts: number, ms: number): Error {
  return new TidemarkError(
    ErrorCode.REPLICATION_UNAVAILABLE,
    `commit ${ts} is durable here but the stream did not acknowledge it within ${ms} ms (options.replicationTimeoutMs): replicas may or may not have it yet; it ships once the stream is back`,
  );
}

export class PositionWaiters {
  #queue: Waiter[] = [];
  #head = 0;
  #shipped = 0;
  #timer: NodeJS.Timeout | null = null;
  #failure: Error | null = null;

  constructor(
    private readonly timeoutMs: number,
    /** The error of a wait for `ts` that timed out after `ms`. */
    private readonly timedOut: (ts: number, ms: number) => Error = commitTimedOut,
  ) {}

  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  wait(ts: number, timeoutMs = this.timeoutMs): Promise<void> {
    if (ts <= this.#shipped) return Promise.resolve();
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const waiter = { ts, ms: timeoutMs, deadline: Date.now() + timeoutMs, resolve, reject, done: false };
      const queue = this.#queue;
      let at = queue.length;
      while (at > this.#head && queue[at - 1]!.ts > ts) at--;
      queue.splice(at, 0, waiter);
      this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
    });
  }

  /** Every commit up to `ts` is in the stream. */
  advance(ts: number): void {
    if (ts > this.#shipped) this.#shipped = ts;
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]!.ts <= ts) {
      const w = queue[this.#head++]!;
      if (!w.done) {
        w.done = true;
        w.resolve();
      }
    }
    this.#compact();
  }

  /** Fails every waiting commit, and every later one, with `error` (the primary was fenced off, or stopped). */
  failAll(error: Error, later = true): void {
    if (later) this.#failure = error;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      if (!w.done) {
        w.done = true;
        w.reject(error);
      }
    }
    this.#queue = [];
    this.#head = 0;
    this.#compact();
  }

  /**
   * Fails every waiting commit for good: those up to `unknownUpTo` (sent,
   * with no answer) with `unknown`, the rest with `error`.
   */
  failSplit(unknownUpTo: number, unknown: Error, error: Error): void {
    this.#failure = error;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      if (!w.done) {
        w.done = true;
        w.reject(w.ts <= unknownUpTo ? unknown : error);
      }
    }
    this.#queue = [];
    this.#head = 0;
    this.#compact();
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #sweep(): void {
    const now = Date.now();
    for (let i = this.#head; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      if (w.done || w.deadline > now) continue;
      w.done = true;
      w.reject(this.timedOut(w.ts, w.ms));
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#head >= this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      this.close();
    }
  }
}
