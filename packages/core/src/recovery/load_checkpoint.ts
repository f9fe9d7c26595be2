/**
 * Loading a checkpoint at open, in parallel:
 *
 *   root ─► tables from the catalog, primary indexes sized from tableRows
 *        ─► piscina pool, one task per CFP (largest first), each with a ring:
 *             task: delta file ─► filter ─► data file ─► batches ─► its ring ─┐
 *        ◄─ main: waits on one doorbell, links every ring's batches ◄────────┘
 *           and, while no ring has a batch, loads a pair of its own (smallest
 *           first) a data block at a time, linking its batches directly
 *        ─► secondary indexes built from the primary ones
 *
 * At most `workers` tasks run at once, each on its own ring, so memory stays
 * at `workers` rings whatever the number of CFPs. The main thread copies
 * runs of versions into arenas and inserts pointers into indexes, and reads
 * when it would otherwise wait; it yields to the event loop now and then, so
 * timers and I/O keep running during a long open. A task that fails
 * (CORRUPT naming its file and offset, an I/O error) cancels the rings of
 * the others, the pool is destroyed, and the error is what the open
 * rejects with. With `workers: 0` every task runs on
 * the main thread (tests, and file layers that only exist there).
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { dataFileName, holdsRows } from '../checkpoint/cfp_format.js';
import type { RootBody } from '../checkpoint/root_format.js';
import { ErrorCode, fromWire, TidemarkError } from '../errors.js';
import type { FileLayer } from '../files/file_layer.js';
import { Replayer } from '../log/replay.js';
import { createRingBuffer, RingConsumer, waitAsync } from '../ring/ring.js';
import { workerBundle } from '../threads/worker_handle.js';
import { workerExecArgv } from '../threads/exec_argv.js';
import type { Engine } from '../txn/engine.js';
import { CfpRecovery, recoverCfp, type CfpTask, type CfpTaskResult } from './cfp_task.js';
import type { BatchSink } from './batch.js';
import { BatchLinker, buildSecondaryIndexes } from './linker.js';
import type { CfpProgress, ProgressReporter } from './progress.js';
import type { RecoveryTaskData, RecoveryTaskOutcome } from './recovery_api.js';
import { ring } from './ring_sink.js';

/** Data region of each task's ring: room for a few batches, and for the largest one. */
export const RECOVERY_RING_BYTES = 4 * 1024 * 1024;
/** The main thread yields to the event loop after linking for this long. */
const YIELD_EVERY_MS = 50;
/** Batches read from one ring before the next ring gets a turn. */
const BATCHES_PER_TURN = 16;

export interface CheckpointLoad {
  cfps: number;
  /** Recovery workers used (0: the main thread loaded the pairs). */
  workers: number;
  /** Pairs the main thread loaded itself: all of them with no workers, else those it took between linking the workers' batches. */
  mainCfps: number;
  /** Row versions linked, and those skipped because their delta file deletes them. */
  rows: number;
  skipped: number;
  /** Bytes of data and delta files read. */
  bytes: number;
  batches: number;
  /** Time to load the pairs, and then to build the secondary indexes. */
  loadMs: number;
  indexMs: number;
  /** Of loadMs, the main thread's time linking rows; the tasks' time, summed over all of them. */
  linkMs: number;
  taskMs: number;
  /** Of taskMs, the time in the read calls of the pair files (the I/O part), summed over the tasks. */
  readMs: number;
}

export interface LoadOptions {
  layer: FileLayer;
  /** Upper bound on pool threads (the pool has min(this, CFPs)); 0 loads on the main thread; null chooses (recoveryWorkers). */
  workers: number | null;
  progress: ProgressReporter;
}

/**
 * Below this many bytes of pair files the main thread loads them itself:
 * starting a pool (a few hundred ms for two threads here) costs more than
 * parallel loading saves.
 */
export const INLINE_RECOVERY_BYTES = 64 * 1024 * 1024;

/**
 * Workers for a checkpoint of `bytes` bytes when the option leaves it open.
 * The main thread is busy the whole time (it links every row), so the pool
 * gets the other cores: cores - 1. On one core, or for a small checkpoint,
 * none. Measured on 2 cores, one worker beside the main thread loads 5 M
 * rows about 20% faster than the main thread alone (docs/ARCHITECTURE.md,
 * "Recovery").
 */
export function recoveryWorkers(option: number | null, bytes: number, cores = availableParallelism()): number {
  if (option !== null) return option;
  return bytes < INLINE_RECOVERY_BYTES || cores < 2 ? 0 : cores - 1;
}

export async function loadCheckpoint(
  engine: Engine,
  dir: string,
  root: RootBody,
  options: LoadOptions,
): Promise<CheckpointLoad> {
  const started = performance.now();
  const replayer = new Replayer(engine);
  root.catalog.forEach((definition, tableId) => replayer.createTable(tableId, definition));
  sizeIndexes(engine, root);
  const tasks: CfpTask[] = root.cfps
    .filter((cfp) => holdsRows(cfp.state))
    .sort((a, b) => b.dataLength - a.dataLength)
    .map((cfp) => ({ dir, databaseId: root.databaseId, cfp, catalog: root.catalog }));
  const bytes = tasks.reduce((sum, t) => sum + t.cfp.dataLength + t.cfp.deltaLength, 0);
  const workers = Math.min(recoveryWorkers(options.workers, bytes), tasks.length);
  const state = new LoadState(dir, engine, tasks, workers, options.progress);
  state.report(true);
  for (const table of engine.tables) table.primary.beginBulk();
  let results: CfpTaskResult[];
  try {
    results = workers === 0 ? loadInline(state, options.layer) : await loadInPool(state, workers, options.layer);
  } finally {
    for (const table of engine.tables) table.primary.endBulk();
  }
  const loadMs = performance.now() - started; // each pair's finish already reported the load's end
  const indexStarted = performance.now();
  options.progress.report(() => ({ dir, phase: 'indexes', bytes: 0, totalBytes: 0, rows: 0, cfps: [], workers }), true);
  buildSecondaryIndexes(engine.tables);
  const load: CheckpointLoad = {
    cfps: tasks.length,
    workers,
    mainCfps: state.mainCfps,
    rows: 0,
    skipped: 0,
    bytes: 0,
    batches: state.linker.batches,
    loadMs,
    indexMs: performance.now() - indexStarted,
    linkMs: state.linkMs,
    taskMs: 0,
    readMs: 0,
  };
  for (const r of results) {
    load.taskMs += r.durationMs;
    load.readMs += r.readMs;
    load.rows += r.live;
    load.skipped += r.skipped;
    load.bytes += r.bytes;
  }
  if (load.rows !== state.linker.rows)
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `${dir}: recovery linked ${state.linker.rows} rows, the tasks read ${load.rows}`,
    );
  return load;
}

/** Sizes each primary index for the rows the root says its table holds (or, lacking that, all the live rows). */
function sizeIndexes(engine: Engine, root: RootBody): void {
  const counts = root.tableRows;
  let live = 0;
  for (const cfp of root.cfps) if (holdsRows(cfp.state)) live += cfp.rows - cfp.tombstones;
  engine.tables.forEach((table, id) => {
    const rows = Array.isArray(counts) && Number.isSafeInteger(counts[id]) && counts[id]! >= 0 ? counts[id]! : live;
    table.primary.reserve(Math.min(rows, live));
  });
}

/** What the main thread tracks while the pairs load: the linker and every pair's progress. */
class LoadState {
  readonly linker: BatchLinker;
  readonly cfps: CfpProgress[];
  linkMs = 0;
  /** Pairs loaded on the main thread. */
  mainCfps = 0;
  private current = 0;

  constructor(
    readonly dir: string,
    engine: Engine,
    readonly tasks: CfpTask[],
    readonly workers: number,
    private readonly progress: ProgressReporter,
  ) {
    this.linker = new BatchLinker(engine.tables, () => `${dir}/${dataFileName(tasks[this.current]!.cfp.id)}`);
    this.cfps = tasks.map((t) => ({ id: t.cfp.id, bytes: 0, totalBytes: t.cfp.dataLength, rows: 0, done: false }));
  }

  /** Links one batch of task `index`. */
  link(index: number, bytes: Uint8Array, offset: number, length: number): void {
    const started = performance.now();
    this.current = index;
    const rows = this.linker.rows;
    this.cfps[index]!.bytes = this.linker.link(bytes, offset, length);
    this.cfps[index]!.rows += this.linker.rows - rows;
    this.linkMs += performance.now() - started;
  }

  /** Where the main thread's own load of pair `index` hands its batches: straight to the linker. */
  mainSink(index: number): BatchSink {
    return { put: (bytes, length) => this.link(index, bytes, 0, length) };
  }

  /** Pair `index` is loaded, by the main thread itself. */
  finishOnMain(index: number): void {
    this.mainCfps++;
    this.finish(index);
  }

  finish(index: number): void {
    const cfp = this.cfps[index]!;
    cfp.bytes = cfp.totalBytes;
    cfp.done = true;
    this.report(true);
  }

  report(force = false): void {
    this.progress.report(() => {
      let bytes = 0;
      let totalBytes = 0;
      for (const c of this.cfps) {
        bytes += c.bytes;
        totalBytes += c.totalBytes;
      }
      return {
        dir: this.dir,
        phase: 'checkpoint',
        bytes,
        totalBytes,
        rows: this.linker.rows,
        cfps: this.cfps.map((c) => ({ ...c })),
        workers: this.workers,
      };
    }, force);
  }
}

function loadInline(state: LoadState, layer: FileLayer): CfpTaskResult[] {
  return state.tasks.map((task, index) => {
    const result = recoverCfp(layer, task, state.mainSink(index));
    state.finishOnMain(index);
    return result;
  });
}

/** One pool slot: the task it runs, its ring, and how that task ended (once it has). */
interface Slot {
  index: number;
  consumer: RingConsumer;
  outcome: RecoveryTaskOutcome | null;
  failure: unknown;
}

/**
 * The pool's tasks take pairs from the largest down; the main thread links
 * their batches and, whenever no ring has a batch for it, loads a data block
 * of its own pair, taken from the smallest up (so it is left with little
 * when the pool runs out). On two cores the main thread would otherwise sit
 * idle while the one worker reads, and a pool would hardly beat loading
 * inline.
 */
async function loadInPool(state: LoadState, workers: number, layer: FileLayer): Promise<CfpTaskResult[]> {
  const load = new PoolLoad(state, workers, layer);
  const { bellCell, slots, results } = load;
  // A pending Atomics.waitAsync does not keep Node's event loop alive, and the pool's threads are unref'd.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    while (load.next < Math.min(workers, load.end)) load.start();
    let lastYield = performance.now();
    while (slots.length > 0 || load.own !== null || load.next < load.end) {
      const seq = Atomics.load(bellCell, 0);
      let linked = 0;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!;
        // Settled is read before the ring: everything a task published before it ended is read below.
        const settled = slot.outcome !== null || slot.failure !== null;
        linked += slot.consumer.read(
          (bytes, offset, length) => state.link(slot.index, bytes, offset, length),
          settled ? Infinity : BATCHES_PER_TURN,
        );
        slot.consumer.release();
        if (!settled) continue;
        results.push(finishSlot(slot));
        state.finish(slot.index);
        slots.splice(i--, 1);
        if (load.next < load.end) load.start();
      }
      state.report();
      if (linked === 0 && !load.stepOwn()) {
        if (slots.length === 0) continue; // the loop's condition decides
        const waited = waitAsync(bellCell, 0, seq);
        if (waited.async) await waited.value;
      } else if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    return results;
  } catch (error) {
    for (const slot of slots) slot.consumer.cancel();
    throw error;
  } finally {
    load.closeOwn();
    clearInterval(keepAlive);
    await load.pool.destroy();
  }
}

/**
 * What loadInPool keeps between turns: the pool, the doorbell its tasks
 * ring, their slots, the pair the main thread loads itself, and which pairs
 * are not taken yet. It is a class rather than closures over loadInPool's
 * locals, so that loadInPool keeps only its loop.
 */
class PoolLoad {
  readonly pool: Piscina<RecoveryTaskData, RecoveryTaskOutcome>;
  readonly bell: SharedArrayBuffer;
  readonly bellCell: Int32Array;
  readonly results: CfpTaskResult[] = [];
  readonly slots: Slot[] = [];
  // Pairs [next, end) are not taken yet: the pool takes `next`, the main thread `end - 1`.
  next = 0;
  end: number;
  own: { index: number; recovery: CfpRecovery } | null = null;

  constructor(
    private readonly state: LoadState,
    workers: number,
    private readonly layer: FileLayer,
  ) {
    // The pool is made first: its threads take a while to start, and they start as it is made.
    this.pool = new Piscina<RecoveryTaskData, RecoveryTaskOutcome>({
      filename: pathToFileURL(workerBundle('recovery')).href,
      minThreads: workers,
      maxThreads: workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      execArgv: workerExecArgv(),
    });
    this.bell = new SharedArrayBuffer(4);
    this.bellCell = new Int32Array(this.bell);
    this.end = state.tasks.length;
  }

  /** Starts the pool on the next pair, with a ring of its own. */
  start(): void {
    const index = this.next++;
    const ringBuffer = createRingBuffer(RECOVERY_RING_BYTES);
    const slot: Slot = { index, consumer: new RingConsumer(ringBuffer), outcome: null, failure: null };
    this.slots.push(slot);
    const bellCell = this.bellCell;
    this.pool.run({ task: this.state.tasks[index]!, ring: ringBuffer, bell: this.bell }).then(
      (outcome) => {
        slot.outcome = outcome;
        ring(bellCell);
      },
      (error: unknown) => {
        slot.failure = error;
        ring(bellCell);
      },
    );
  }

  /** Loads one block of the main thread's own pair (taking one first if need be); false when there is none left to take. */
  stepOwn(): boolean {
    if (this.own === null) {
      if (this.next >= this.end) return false;
      const index = --this.end;
      this.own = { index, recovery: new CfpRecovery(this.layer, this.state.tasks[index]!, this.state.mainSink(index)) };
    }
    const own = this.own;
    if (own.recovery.step()) return true;
    own.recovery.close();
    this.results.push(own.recovery.result());
    this.state.finishOnMain(own.index);
    this.own = null;
    return true;
  }

  closeOwn(): void {
    this.own?.recovery.close();
  }
}

/** The task's result, or its error rethrown as the TidemarkError it was in the worker. */
function finishSlot(slot: Slot): CfpTaskResult {
  const outcome = slot.outcome;
  if (outcome === null) {
    const message = (slot.failure as Error)?.message ?? String(slot.failure);
    throw new TidemarkError(ErrorCode.IO_ERROR, `recovery worker failed: ${message}`, { cause: slot.failure });
  }
  if (!outcome.ok) throw fromWire(outcome);
  return outcome.result;
}
