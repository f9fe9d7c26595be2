/**
 * The checkpoint streamer, restarted when it stops for lack of space.
 *
 * A checkpoint needs new files (pairs, a root), so a full disk stops the
 * streamer. That is no reason to stop the database: every commit is in the
 * WAL, which the log writer keeps writing while it has room (and refuses new
 * writes when it has not). So a streamer that fails with DISK_FULL is ended,
 * and a new one starts after `retryMs` (doubling, up to 8 s, while new ones
 * keep failing soon after they start): it reads the newest root from disk
 * and removes what the failed one made after it — what an open after a
 * crash does, which the crash tests cover — then catches up from the WAL.
 * Meanwhile checkpoint() and merge() reject with DISK_FULL at once; close
 * skips the final checkpoint (the WAL holds everything), also when that
 * checkpoint is what finds the disk full. Any other failure is passed on:
 * the engine stops.
 */
import type { Remote } from 'comlink';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { StreamerApi } from '../checkpoint/streamer_api.js';
import type { ThreadHandle } from '../threads/engine_threads.js';

/** How long a streamer that found the disk full waits before a new one tries again; doubled while it keeps failing. */
export const STREAMER_RESTART_MS = 250;
const RESTART_MAX_MS = 8000;
const RESTART_RESET_MS = 10_000;

type Start = (restart: boolean, onFailure: (error: TidemarkError) => void) => ThreadHandle<StreamerApi>;

export class StreamerSupervisor {
  private handle: ThreadHandle<StreamerApi> | null = null;
  /** Why the streamer is down (null: it runs). */
  private down: TidemarkError | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closing = false;
  /** Streamers started after one found the disk full. */
  restarts = 0;
  /** Failures in a row (a streamer that ran RESTART_RESET_MS ends the run), and when the current one started. */
  private failures = 0;
  private launchedAt = 0;

  constructor(
    private readonly start: Start,
    private readonly onFatal: (error: TidemarkError) => void,
    private readonly retryMs = STREAMER_RESTART_MS,
  ) {
    this.launch(false);
  }

  call<T>(f: (api: Remote<StreamerApi>) => Promise<T>): Promise<T> {
    if (this.down !== null || this.handle === null) return Promise.reject(this.downError());
    return this.handle.call(f);
  }

  /**
   * A call whose answer is optional (statistics): null while the streamer is
   * down, and also when it goes down for a full disk during the call, which
   * is no failure of the caller's (it would otherwise reject with DISK_FULL).
   */
  async callUnlessDown<T>(f: (api: Remote<StreamerApi>) => Promise<T>): Promise<T | null> {
    if (this.down !== null) return null;
    try {
      return await this.call(f);
    } catch (error) {
      if (error instanceof TidemarkError && error.code === ErrorCode.DISK_FULL) return null;
      throw error;
    }
  }

  /** Stops the streamer with its last call; null when it is down (no final checkpoint: the WAL holds everything). */
  async stop<T>(last: (api: Remote<StreamerApi>) => Promise<T>): Promise<T | null> {
    this.closing = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.down !== null || this.handle === null) return null;
    return this.handle.stop(last);
  }

  async terminate(): Promise<void> {
    this.closing = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.handle?.terminate();
  }

  private launch(restart: boolean): void {
    this.launchedAt = performance.now();
    let handle: ThreadHandle<StreamerApi> | null = null;
    try {
      handle = this.start(restart, (error) => this.failed(handle, error));
    } catch (error) {
      // A streamer run on this thread can fail while it starts (reading the root, removing leftovers).
      this.failed(
        null,
        error instanceof TidemarkError
          ? error
          : new TidemarkError(ErrorCode.IO_ERROR, (error as Error).message, { cause: error }),
      );
      return;
    }
    if (this.down === null) this.handle = handle;
  }

  private failed(handle: ThreadHandle<StreamerApi> | null, error: TidemarkError): void {
    if (handle !== null && handle !== this.handle) return;
    if (error.code !== ErrorCode.DISK_FULL) {
      this.onFatal(error);
      return;
    }
    if (this.closing) return; // stop() rejects with it: close goes on without the final checkpoint
    this.down = error;
    this.handle = null;
    // Back off while the disk stays full (each new streamer re-reads the WAL since the root), and start the
    // next one only once the old thread has ended: it may still be inside a file call, or its merge pool.
    this.failures = performance.now() - this.launchedAt > RESTART_RESET_MS ? 1 : this.failures + 1;
    const delay = Math.min(RESTART_MAX_MS, this.retryMs * 2 ** (this.failures - 1));
    void (handle?.terminate() ?? Promise.resolve())
      .catch(() => {})
      .then(() => {
        if (this.closing) return;
        this.timer = setTimeout(() => {
          this.timer = null;
          this.down = null;
          this.restarts++;
          this.launch(true);
        }, delay).unref(); // a process that is done ends (and closes the database) without waiting for space
      });
  }

  private downError(): TidemarkError {
    if (this.down === null) return new TidemarkError(ErrorCode.IO_ERROR, 'the checkpoint streamer failed to start');
    return new TidemarkError(ErrorCode.DISK_FULL, `checkpoints wait for disk space: ${this.down.message}`, {
      cause: this.down,
    });
  }
}
