/**
 * Runs the segment cleaner in the background of the main thread: a look for
 * sparse segments every CHECK_MS, then one slice of at most SLICE_MS per
 * event-loop turn (setImmediate) until none is left, so commits and reads
 * are served between slices. Its timer never keeps the process alive.
 */
import type { Engine } from '../txn/engine.js';
import { SegmentCleaner, type CleanerStats } from './cleaner.js';

/** How often the cleaner looks for work while idle, and how long a slice may run. */
const CHECK_MS = 100;
export const CLEANER_SLICE_MS = 2;

export class CleanerRunner {
  private readonly cleaner: SegmentCleaner;
  private readonly timer: NodeJS.Timeout | null;
  private running = false;
  private stopped = false;
  /** Set when a slice threw (a table at its segment limit): the cleaner stops for good and says why. */
  private failure: Error | null = null;
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(engine: Engine, liveFraction: number, background: boolean) {
    this.cleaner = new SegmentCleaner(engine, liveFraction);
    this.timer = background ? setInterval(() => this.kick(), CHECK_MS).unref() : null;
  }

  get stats(): CleanerStats {
    return this.cleaner.stats;
  }

  /** Resolves once no segment is left to clean. */
  runToEnd(): Promise<CleanerStats> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve: () => resolve({ ...this.cleaner.stats }), reject });
      if (!this.running) this.start();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.finish();
  }

  private kick(): void {
    if (!this.running && !this.stopped && this.failure === null && this.cleaner.hasWork()) this.start();
  }

  private start(): void {
    this.running = true;
    const turn = (): void => {
      if (this.stopped) return;
      let more: boolean;
      try {
        more = this.cleaner.slice(CLEANER_SLICE_MS);
      } catch (error) {
        // What was moved so far is consistent (each move repoints before the next); the cleaner stops.
        this.failure = error as Error;
        if (this.timer !== null) clearInterval(this.timer);
        this.finish();
        return;
      }
      if (more) setImmediate(turn);
      else this.finish();
    };
    turn();
  }

  private finish(): void {
    this.running = false;
    for (const w of this.waiters.splice(0)) {
      if (this.failure === null) w.resolve();
      else w.reject(this.failure);
    }
  }
}
