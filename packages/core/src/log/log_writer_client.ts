/**
 * The main thread's handle on the log writer worker: starts the bundled
 * worker (packages/workers/src/entries/log_writer.ts, built into this
 * package's dist/workers), talks to it through comlink, and reports a
 * failure of the worker once.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { wrap, releaseProxy, type Remote } from 'comlink';
import { ErrorCode, TidemarkError } from '../errors.js';
import { endpointOf } from './endpoint.js';
import type { LogWriterApi, LogWriterData, LogWriterStats } from './log_writer_api.js';

/** dist/workers/<name>.js of @tidemark/core, found from this module whether it runs from src or dist. */
export function workerBundle(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const path = join(dir, 'dist', 'workers', `${name}.js`);
  if (!existsSync(path)) throw new TidemarkError(ErrorCode.IO_ERROR, `worker bundle ${path} is missing; run \`pnpm build\``);
  return path;
}

export class LogWriterClient {
  private readonly worker: Worker;
  private readonly api: Remote<LogWriterApi>;
  private stopped = false;

  constructor(data: LogWriterData, onFailure: (error: TidemarkError) => void) {
    this.worker = new Worker(workerBundle('log_writer'), { workerData: data, name: 'tidemark-log-writer' });
    this.api = wrap<LogWriterApi>(endpointOf(this.worker));
    let reported = false;
    const report = (error: TidemarkError): void => {
      if (reported || this.stopped) return;
      reported = true;
      onFailure(error);
    };
    this.worker.on('message', (m: { type?: string; message?: string; code?: string }) => {
      if (m?.type === 'log-writer-failed') report(new TidemarkError((m.code as ErrorCode) ?? ErrorCode.IO_ERROR, `log writer: ${m.message}`));
    });
    this.worker.on('error', (error) => report(new TidemarkError(ErrorCode.IO_ERROR, `log writer: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => report(new TidemarkError(ErrorCode.IO_ERROR, `log writer stopped unexpectedly (exit code ${code})`)));
  }

  stats(): Promise<LogWriterStats> {
    return this.api.stats();
  }

  /** After the ring is closed: waits for the writer to drain and sync, then ends the thread. */
  async stop(): Promise<LogWriterStats | null> {
    let stats: LogWriterStats | null = null;
    try {
      stats = await this.api.stop();
    } finally {
      this.stopped = true;
      this.api[releaseProxy]();
      await this.worker.terminate();
    }
    return stats;
  }
}
