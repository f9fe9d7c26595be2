/**
 * The engine's background threads as the main thread sees them: a handle it
 * calls and stops. By default each is a worker thread (WorkerHandle); fault
 * tests substitute handles that run the same loops on the main thread over a
 * simulated file layer, so a crash or an I/O error can hit any operation in
 * a reproducible order.
 */
import type { Remote } from 'comlink';
import type { TidemarkError } from '../errors.js';
import type { LogWriterApi, LogWriterData } from '../log/log_writer_api.js';
import type { StreamerApi, StreamerData } from '../checkpoint/streamer_api.js';
import type { Worker } from 'node:worker_threads';
import { spawnWorker, WorkerHandle } from './worker_handle.js';

export interface ThreadHandle<Api> {
  /** Calls the thread; rejects with the thread's failure if it dies first. */
  call<T>(f: (api: Remote<Api>) => Promise<T>): Promise<T>;
  /** Runs the last call (which finishes the thread's work), then ends the thread. */
  stop<T>(last: (api: Remote<Api>) => Promise<T>): Promise<T>;
  /** Ends the thread at once; nothing more is reported. Idempotent. */
  terminate(): Promise<void>;
}

/** Starts the log writer and the checkpoint streamer; `onFailure` is called once if one of them fails. */
export interface EngineThreads {
  /** The loops run on the calling thread (fault tests): nothing may block waiting for them. */
  readonly sameThread?: boolean;
  logWriter(data: LogWriterData, onFailure: (error: TidemarkError) => void): ThreadHandle<LogWriterApi>;
  streamer(data: StreamerData, onFailure: (error: TidemarkError) => void): ThreadHandle<StreamerApi>;
  /**
   * Optional: starts the log writer's thread (and the streamer's, if
   * `streamer`) before their data is known, so that they load while opening
   * recovers. The threads returned hand them out on the first logWriter()
   * and streamer() calls (a streamer restarted later starts afresh);
   * `discard` ends those not handed out (a failed open).
   */
  prepare?(streamer: boolean): PreparedThreads;
}

export interface PreparedThreads extends EngineThreads {
  discard(): Promise<void>;
}

/** Worker threads running the bundled entries (dist/workers/log_writer.js, streamer.js). */
export const workerThreads: EngineThreads = {
  logWriter: (data, onFailure) => new WorkerHandle<LogWriterApi>('log_writer', data, onFailure),
  streamer: (data, onFailure) => new WorkerHandle<StreamerApi>('streamer', data, onFailure),
  prepare: (withStreamer) => {
    const spares = new Map<string, Worker>([['log_writer', spawnWorker('log_writer')]]);
    try {
      if (withStreamer) spares.set('streamer', spawnWorker('streamer'));
    } catch (error) {
      void spares.get('log_writer')!.terminate(); // a missing streamer bundle must not leave the writer's thread running
      throw error;
    }
    /** The spare thread of `name` the first time, a new one after. */
    const take = (name: string): Worker => {
      const worker = spares.get(name) ?? spawnWorker(name);
      spares.delete(name);
      return worker;
    };
    return {
      logWriter: (data, onFailure) => new WorkerHandle<LogWriterApi>('log_writer', data, onFailure, take('log_writer')),
      streamer: (data, onFailure) => new WorkerHandle<StreamerApi>('streamer', data, onFailure, take('streamer')),
      discard: async () => {
        const left = [...spares.values()];
        spares.clear();
        await Promise.all(left.map((w) => w.terminate()));
      },
    };
  },
};

/** Threads without a prepare step: each starts when asked. */
export function prepareThreads(threads: EngineThreads, streamer: boolean): PreparedThreads {
  return (
    threads.prepare?.(streamer) ?? { logWriter: threads.logWriter, streamer: threads.streamer, discard: async () => {} }
  );
}
