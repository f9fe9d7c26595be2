/**
 * The engine's threads run inline: the log writer and the checkpoint
 * streamer loops on the main thread, over any file layer, merges run
 * synchronously. Fault tests open databases this way over a simulated file
 * system, so every file operation happens in one reproducible order and a
 * crash or an I/O error can be put on any of them. Not for production: the
 * main thread then does the disk work.
 */
import type { Remote } from 'comlink';
import { mergeOutcome, type MergeOutcome, type MergeRunner, type MergeTask } from '../checkpoint/merge_task.js';
import type { StreamerApi } from '../checkpoint/streamer_api.js';
import { StreamerLoop } from '../checkpoint/streamer_loop.js';
import { runStreamer } from '../checkpoint/streamer_run.js';
import { fromWire, type TidemarkError } from '../errors.js';
import type { FileLayer } from '../files/file_layer.js';
import type { LogWriterApi } from '../log/log_writer_api.js';
import { LogWriterLoop } from '../log/log_writer_loop.js';
import { runLogWriter } from '../log/log_writer_run.js';
import type { EngineThreads, ThreadHandle } from './engine_threads.js';
import type { Running } from './loop_runner.js';

/** Runs each merge task at once on this thread. */
export class InlineMergeRunner implements MergeRunner {
  constructor(private readonly layer: FileLayer) {}
  run(task: MergeTask): Promise<MergeOutcome> {
    return Promise.resolve(mergeOutcome(this.layer, task));
  }
  async close(): Promise<void> {}
}

/** A loop's API on this thread, with a failure reported once and racing every call, like a worker's death. */
class InlineHandle<Api> implements ThreadHandle<Api> {
  private died: Promise<never>;
  private die: (error: TidemarkError) => void = () => {};
  private stopped = false;
  private reported = false;
  running: Running<Api> | null = null;

  constructor(
    private readonly label: string,
    private readonly onFailure: (error: TidemarkError) => void,
  ) {
    this.died = new Promise<never>((_, reject) => (this.die = reject));
    this.died.catch(() => {});
  }

  fail(error: Error): void {
    const failure = fromWire(error, this.label, { cause: error });
    this.die(failure);
    if (this.reported || this.stopped) return;
    this.reported = true;
    this.onFailure(failure);
  }

  call<T>(f: (api: Remote<Api>) => Promise<T>): Promise<T> {
    return Promise.race([f(this.running!.api as Remote<Api>), this.died]);
  }

  async stop<T>(last: (api: Remote<Api>) => Promise<T>): Promise<T> {
    try {
      return await this.call(last);
    } finally {
      this.stopped = true;
    }
  }

  /** Ends the loop at its next step, as terminating a worker thread would. */
  async terminate(): Promise<void> {
    this.stopped = true;
    this.running?.halt();
  }
}

/** The log writer and streamer loops on the main thread over `layer`. */
export function inlineThreads(layer: FileLayer): EngineThreads {
  return {
    sameThread: true,
    logWriter: (data, onFailure) => {
      const handle = new InlineHandle<LogWriterApi>('log writer', onFailure);
      handle.running = runLogWriter(new LogWriterLoop(layer, data), 0, (error) => handle.fail(error));
      return handle;
    },
    streamer: (data, onFailure) => {
      const merges = new InlineMergeRunner(layer);
      const handle = new InlineHandle<StreamerApi>('streamer', onFailure);
      handle.running = runStreamer(new StreamerLoop(layer, data, merges), merges, 0, (error) => handle.fail(error));
      return handle;
    },
  };
}
