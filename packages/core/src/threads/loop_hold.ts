/**
 * Keeps Node's event loop alive while the engine has work a caller waits
 * on. The engine's worker threads are unref'd, so that a process whose
 * application is done can end; and a pending Atomics.waitAsync does not
 * keep the loop alive either. Without a hold, a durable commit awaiting its
 * fdatasync could find the loop empty under it: the process would end, or
 * close the database at 'beforeExit' (lifecycle.ts) while the caller still
 * means to use it. One long timer per hold, ref'd while anything is held
 * and unref'd otherwise, so holding and releasing allocate nothing.
 */
import { assert } from '../assert.js';

/** The timer never needs to fire; it only has to exist. */
const HOLD_TIMER_MS = 3_600_000;

export class LoopHold {
  #holds = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #disposed = false;

  hold(): void {
    if (this.#holds++ === 0 && !this.#disposed) {
      this.#timer ??= setInterval(() => {}, HOLD_TIMER_MS);
      this.#timer.ref();
    }
  }

  release(): void {
    assert(this.#holds > 0, 'a loop hold is released once per hold');
    if (--this.#holds === 0) this.#timer?.unref();
  }

  /** Whether anything holds the loop now. */
  get held(): boolean {
    return this.#holds > 0;
  }

  /** Ends the timer for good (after close): holds still counted no longer keep the loop alive. */
  dispose(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#disposed = true;
  }
}
