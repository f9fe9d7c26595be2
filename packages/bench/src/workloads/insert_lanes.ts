/**
 * Durable single-row inserts kept `inFlight` at a time for as long as they
 * are asked to run, and measured in windows: the `addIndex` workload
 * watches them before an index build and during it without stopping them
 * in between, so both windows see the same steady load.
 *
 * Each lane keeps one commit in flight: when its insert resolves it starts
 * the next (a closed loop, as durable_loops.ts's). A window counts the
 * commits that resolve inside it, their latency (call to resolve), and the
 * main thread's event-loop delay, sampled every EVENT_LOOP_RESOLUTION_MS.
 * The commitTs each insert resolved with is kept, by row, so a workload can
 * count the rows a backup taken at some commitTs must hold.
 */
import type { Table } from '@tidemark/core';
import type { Histogram } from 'hdr-histogram-js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EVENT_LOOP_RESOLUTION_MS } from '../constants.js';
import { rowAt, type RowColumns } from '../data.js';
import { latencyHistogram, latencySummary, recordMs, type LatencySummary } from '../measure.js';

/** What happened during one window. */
export interface LaneWindow<T> {
  result: T;
  commits: number;
  seconds: number;
  latency: LatencySummary;
  loopDelayP99Ms: number;
  /** The longest event-loop delay sampled in the window: the main thread's longest pause. */
  loopDelayMaxMs: number;
  /** Whether the lanes have run out of rows, by the window's end (its rate is then too low). */
  ranOut: boolean;
  /** CPU time of the whole process (every thread) over the window's wall time: the cores it kept busy. */
  cpuCores: number;
}

export class InsertLanes {
  /** Inserts started so far: rows 0..issued-1 of `rows`. */
  #issued = 0;
  #committed = 0;
  #stopped = false;
  #ranOut = false;
  /** The first insert that failed: the lanes stop, and the next window or stop() throws it. */
  #error: unknown = null;
  #latency: Histogram = latencyHistogram();
  /** The commitTs row i's insert resolved with; 0 while it has not. */
  readonly #commitTs: Float64Array;
  readonly #running: Array<Promise<void>> = [];

  constructor(
    private readonly table: Table,
    private readonly rows: RowColumns,
    private readonly inFlight: number,
  ) {
    this.#commitTs = new Float64Array(rows.count);
  }

  start(): void {
    for (let i = 0; i < this.inFlight; i++) {
      this.#running.push(
        this.#lane().catch((error: unknown) => {
          this.#error ??= error;
          this.#stopped = true;
        }),
      );
    }
  }

  #check(): void {
    if (this.#error !== null) throw this.#error;
  }

  async #lane(): Promise<void> {
    while (!this.#stopped) {
      if (this.#issued === this.rows.count) {
        this.#ranOut = true;
        return;
      }
      const i = this.#issued++;
      const row = rowAt(this.rows, i);
      const started = performance.now();
      this.#commitTs[i] = await this.table.insert(row);
      recordMs(this.#latency, performance.now() - started);
      this.#committed++;
    }
  }

  /** Runs `fn` as one window: the commits, latency and event-loop delay while it runs. */
  async during<T>(fn: () => Promise<T>): Promise<LaneWindow<T>> {
    const monitor = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    this.#latency = latencyHistogram();
    this.#check();
    const committed = this.#committed;
    const started = performance.now();
    const cpu = process.cpuUsage();
    monitor.enable();
    let result: T;
    try {
      result = await fn();
    } finally {
      monitor.disable();
    }
    this.#check();
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      result,
      commits: this.#committed - committed,
      seconds,
      latency: latencySummary(this.#latency),
      loopDelayP99Ms: monitor.percentile(99) / 1e6,
      loopDelayMaxMs: monitor.max / 1e6,
      ranOut: this.#ranOut,
      cpuCores: (used.user + used.system) / 1e6 / seconds,
    };
  }

  /** Inserts resolved so far. */
  get committed(): number {
    return this.#committed;
  }

  /** Rows whose insert resolved with a commitTs of at most `commitTs`. */
  committedUpTo(commitTs: number): number {
    let count = 0;
    for (let i = 0; i < this.#issued; i++) {
      const ts = this.#commitTs[i]!;
      if (ts > 0 && ts <= commitTs) count++;
    }
    return count;
  }

  /** Stops starting inserts and waits for those in flight; resolves with the rows inserted. */
  async stop(): Promise<number> {
    this.#stopped = true;
    await Promise.all(this.#running);
    this.#check();
    return this.#issued;
  }
}
