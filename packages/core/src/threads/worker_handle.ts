/**
 * The main thread's handle on one of the engine's workers (the log writer,
 * the checkpoint streamer): starts the bundled entry (packages/workers/src/
 * entries/<name>.ts, built into this package's dist/workers), talks to it
 * through comlink, and reports a failure of the worker once — a message the
 * entry posts before it dies, an uncaught error, or an unexpected exit.
 *
 * A thread does not keep the process alive (it is unref'd) except while a
 * call to it is in flight: a script that is done ends, and its open
 * databases close at 'beforeExit' (lifecycle.ts). Commits waiting for
 * durability hold the event loop themselves (DurableSink).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { wrap, releaseProxy, type Remote } from 'comlink';
import { ErrorCode, fromWire, TidemarkError, type WireError } from '../errors.js';
import { endpointOf } from './endpoint.js';
import { workerExecArgv } from './exec_argv.js';
import type { ThreadHandle } from './engine_threads.js';
import { sendStart } from './start_message.js';

/** What an entry posts before it dies of an error. */
export type WorkerFailedMessage = { type: 'worker-failed' } & WireError;

/** dist/workers/<name>.js of @tidemark/core, found from this module whether it runs from src or dist. */
export function workerBundle(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const path = join(dir, 'dist', 'workers', `${name}.js`);
  if (!existsSync(path))
    throw new TidemarkError(ErrorCode.IO_ERROR, `worker bundle ${path} is missing; run \`pnpm build\``);
  return path;
}

/** How a thread ended before a WorkerHandle took it (a bundle that fails to load): kept for the handle to report. */
interface EarlyEnd {
  error: Error | null;
  exitCode: number | null;
}
const earlyEnds = new WeakMap<Worker, EarlyEnd>();

/** Starts the thread of entry `name`; it waits for its data (WorkerHandle sends it). */
export function spawnWorker(name: string): Worker {
  const worker = new Worker(workerBundle(name), { name: `tidemark-${name}`, execArgv: workerExecArgv() });
  const end: EarlyEnd = { error: null, exitCode: null };
  earlyEnds.set(worker, end);
  worker.unref();
  // Listening also keeps an error before the handle exists from being an unhandled 'error' event.
  worker.on('error', (error) => (end.error ??= error));
  worker.on('exit', (code) => (end.exitCode = code));
  return worker;
}

export class WorkerHandle<Api> implements ThreadHandle<Api> {
  private readonly worker: Worker;
  private readonly api: Remote<Api>;
  private stopped = false;
  private ended = false;
  /** Calls in flight: the thread keeps the process alive while there are any. */
  private calls = 0;
  /** Rejects when the worker fails or exits, so no call waits forever on a dead thread. */
  private readonly died: Promise<never>;

  /** Sends `data` to `worker` (a thread of entry `name` started by spawnWorker, at once by default). */
  constructor(
    name: string,
    data: unknown,
    onFailure: (error: TidemarkError) => void,
    worker: Worker = spawnWorker(name),
  ) {
    const label = name.replace(/_/g, ' ');
    this.worker = worker;
    sendStart(worker, data);
    this.api = wrap<Api>(endpointOf(this.worker));
    let reported = false;
    let die: (error: TidemarkError) => void = () => {};
    this.died = new Promise<never>((_, reject) => (die = reject));
    this.died.catch(() => {});
    const report = (error: TidemarkError): void => {
      die(error);
      if (reported || this.stopped) return;
      reported = true;
      onFailure(error);
    };
    const failed = (error: Error): TidemarkError => fromWire(error, label, { cause: error });
    const exited = (code: number): TidemarkError =>
      new TidemarkError(ErrorCode.IO_ERROR, `${label} stopped unexpectedly (exit code ${code})`);
    this.worker.on('message', (m: Partial<WorkerFailedMessage>) => {
      if (m?.type === 'worker-failed') report(fromWire(m, label));
    });
    // The entry's own error: it keeps its code whether this or its 'worker-failed' message arrives first.
    this.worker.on('error', (error) => report(failed(error)));
    this.worker.on('exit', (code) => report(exited(code)));
    const early = earlyEnds.get(worker);
    if (early?.error) report(failed(early.error));
    else if (early?.exitCode != null) report(exited(early.exitCode));
  }

  /** Calls the worker; rejects with the worker's failure if it dies first. */
  call<T>(f: (api: Remote<Api>) => Promise<T>): Promise<T> {
    if (this.calls++ === 0) this.worker.ref();
    return Promise.race([f(this.api), this.died]).finally(() => {
      if (--this.calls === 0) this.worker.unref();
    });
  }

  /** Runs the worker's last call (which finishes its work), then ends the thread; the thread ends even if the call fails. */
  async stop<T>(last: (api: Remote<Api>) => Promise<T>): Promise<T> {
    try {
      return await this.call(last);
    } finally {
      await this.terminate();
    }
  }

  /** Ends the thread at once (a failed open, or after stop); nothing more is reported. Idempotent. */
  async terminate(): Promise<void> {
    this.stopped = true;
    if (this.ended) return;
    this.ended = true;
    this.api[releaseProxy]();
    await this.worker.terminate();
  }
}
