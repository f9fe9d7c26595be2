/**
 * Pacing for a background thread's long loops: after every PACE_RUN_MS of
 * work it naps for PACE_NAP_MS (Atomics.wait), which gives the threads that
 * commits wait on a core at once.
 *
 * Lowering the thread's priority is not enough on its own. On this 2-core
 * machine (2026-12-07, Linux 6.18), with durable inserts at 256 in flight
 * and a thread that only computes beside them, the commits ran at 97 K/s
 * against 372–482 K/s with no such thread, at nice 19 and as SCHED_IDLE
 * alike; napping 0.1 ms after every 1 ms, 0.05 after 0.5 or 0.02 after 0.2,
 * the same thread left them at 273–415 K/s.
 */
export const PACE_RUN_MS = 1;
export const PACE_NAP_MS = 0.1;

/** Iterations between two looks at the clock, in the loops that tick. */
export const PACE_EVERY = 256;

export class Pacer {
  /** A pacer that never naps. */
  static readonly NONE: Pacer = new (class extends Pacer {
    override tick(): void {}
  })();

  readonly #cell = new Int32Array(new SharedArrayBuffer(4));
  #until = performance.now() + PACE_RUN_MS;

  /** Naps if this slice of work is over. */
  tick(): void {
    if (performance.now() < this.#until) return;
    Atomics.wait(this.#cell, 0, 0, PACE_NAP_MS);
    this.#until = performance.now() + PACE_RUN_MS;
  }
}
