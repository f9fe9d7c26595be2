/**
 * The checkpoint streamer, restarted when it stops for lack of space.
 *
 * A checkpoint needs new files (pairs, a root), so a full disk stops the
 * streamer. That is no reason to stop the database: every commit is in the
 * WAL, which the log writer keeps writing while it has room (and refuses new
 * writes when it has not). So a streamer that fails with DISK_FULL is ended,
 * and a new one starts after `retryMs`: it reads the newest root from disk
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

/** How long a streamer that found the disk full waits before a new one tries again. */
export const STREAMER_RESTART_MS = 250;

type Start = (restart: boolean, onFailure: (error: TidemarkError) => void) => ThreadHandle<StreamerApi>;

export class StreamerSupervisor {
  private handle: ThreadHandle<StreamerApi> | null = null;
  /** Why the streamer is down (null: it runs). */
  private down: TidemarkError | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closing = false;
  /** Streamers started after one found the disk full. */
  restarts = 0;

  constructor(
    private readonly start: Start,
    private readonly onFatal: (error: TidemarkError) => void,
    private readonly retryMs = STREAMER_RESTART_MS,
  ) {
    this.launch(false);
  }

  /** Whether the streamer is down, waiting for space. */
  get waiting(): boolean {
    return this.down !== null;
  }

  call<T>(f: (api: Remote<StreamerApi>) => Promise<T>): Promise<T> {
    if (this.down !== null || this.handle === null) return Promise.reject(this.downError());
    return this.handle.call(f);
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
    let handle: ThreadHandle<StreamerApi> | null = null;
    try {
      handle = this.start(restart, (error) => this.failed(handle, error));
    } catch (error) {
      // A streamer run on this thread can fail while it starts (reading the root, removing leftovers).
      this.failed(null, error instanceof TidemarkError ? error : new TidemarkError(ErrorCode.IO_ERROR, (error as Error).message, { cause: error }));
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
    void handle?.terminate();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.down = null;
      this.restarts++;
      this.launch(true);
    }, this.retryMs);
  }

  private downError(): TidemarkError {
    return new TidemarkError(ErrorCode.DISK_FULL, `checkpoints wait for disk space: ${this.down?.message ?? 'the streamer is restarting'}`, { cause: this.down });
  }
}
