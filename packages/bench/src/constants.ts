/**
 * Every size and bound of the harness, in one place. The relations between
 * them are asserted when this module loads.
 */

/** Rows of one generated data set: ids are int32 and start at 1. */
export const MAX_ROWS = 50_000_000;
/** Operations in one measured loop. */
export const MAX_OPS = 100_000_000;
/** Longest a single measured loop may be asked to run (`--seconds`). */
export const MAX_SECONDS = 3_600;

/** Rows per `db.transactionSync` batch when a workload builds a table. */
export const BUILD_BATCH_ROWS = 10_000;
/**
 * Autocommit writes issued before awaiting them together. Awaiting every
 * write alone would measure promise latency, not commit throughput.
 */
export const COMMIT_CHUNK_OPS = 1_000;
/** Reads between two looks at the clock in a loop with a time limit. */
export const READ_CHUNK_OPS = 10_000;

/** Operations of the untimed pass that lets the JIT compile the hot paths. */
export const WARMUP_OPS = 50_000;
/** gc() calls in one collection: one call can leave weak and finalised objects behind. */
export const GC_PASSES = 4;
/** A memory sample repeats collection, at most this many times, until it moves less than GC_SETTLE_BYTES. */
export const GC_SETTLE_PASSES = 10;
export const GC_SETTLE_MS = 20;
export const GC_SETTLE_BYTES = 256 * 1024;

/** Characters in a generated account name (ASCII, so one byte each). */
export const NAME_CHARS = 16;
/** Seed of every generated data set, so runs compare like with like. */
export const DEFAULT_SEED = 0x7105e;

/** The figures the issue asks for. */
export const TARGET_BUILD_SPEEDUP = 2;
export const TARGET_BYTES_PER_ROW = 64;
export const TARGET_COMMITS_PER_SECOND = 1_000_000;
export const TARGET_GETS_PER_SECOND = 1_000_000;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`bench constants: ${message}`);
}

check(MAX_ROWS < 2 ** 31, 'ids fit int32');
check(BUILD_BATCH_ROWS > 0 && BUILD_BATCH_ROWS <= MAX_ROWS, 'a build batch fits a data set');
check(COMMIT_CHUNK_OPS > 0 && COMMIT_CHUNK_OPS <= BUILD_BATCH_ROWS, 'a commit chunk is smaller than a build batch');
check(READ_CHUNK_OPS > 0 && WARMUP_OPS <= MAX_OPS, 'chunks and warm-up fit the op bound');
check(GC_PASSES >= 1 && GC_SETTLE_PASSES >= 2, 'at least one gc call, and a second sample to compare with');
