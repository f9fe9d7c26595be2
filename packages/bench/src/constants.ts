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
/** Durable commits with one in flight, as a share of the disk's own fdatasync rate. */
export const TARGET_SINGLE_COMMIT_SYNC_RATIO = 0.8;
/** transactionSync durable, one commit at a time: vs the disk's fdatasync rate, and vs better-sqlite3 synchronous=FULL. */
export const TARGET_SYNC_COMMIT_FDATASYNC_RATIO = 0.85;
export const TARGET_SYNC_COMMIT_SQLITE_RATIO = 1.0;
/** A new database holding 1,000 rows: disk it takes, and its first open(). */
export const TARGET_NEW_DB_DISK_BYTES = 8 * 1024 * 1024;
export const TARGET_NEW_DB_OPEN_MS = 100;
/** The main thread's event-loop delay p99 with EVENT_LOOP_IN_FLIGHT durable commits in flight, in ms (issue 30). */
export const TARGET_BUSY_LOOP_P99_MS = 2;
/** 99th percentile of one durable commit, from call to resolve. */
export const TARGET_COMMIT_P99_MS = 3;
/** Delayed-durability commits per second, as a share of the in-memory rate. */
export const TARGET_DELAYED_RATIO = 0.9;
/** A schema change (addColumn, dropColumn) commits in at most this long, whatever the table's size. */
export const TARGET_SCHEMA_CHANGE_MS = 10;
/** Gets of rows written before a schema change, as a share of gets of rows written after it. */
export const TARGET_READ_BEFORE_AFTER_RATIO = 0.9;
/** An online index build takes at most this multiple of building the same index during a recovery. */
export const TARGET_ONLINE_INDEX_RATIO = 2;
/** Durable commits during an online index build, as a share of those before it. */
export const TARGET_COMMITS_DURING_BUILD_RATIO = 0.7;
/** The main thread's event-loop delay p99 during an online index build. */
export const TARGET_BUILD_LOOP_DELAY_MS = 5;
/** table.iterate() rows/s as a share of scan()'s, at least; its peak heap as a share of scan()'s, at most. */
export const TARGET_ITERATE_RATE_RATIO = 1;
export const TARGET_ITERATE_HEAP_RATIO = 0.1;
/** Durable commits during an online backup, as a share of those before it. */
export const TARGET_COMMITS_DURING_BACKUP_RATIO = 0.85;
/** The main thread's longest pause (and its p99 delay) during an online backup. */
export const TARGET_BACKUP_PAUSE_MS = 5;
/** Changes per second a change feed's consumer receives, as a share of the commits per second made meanwhile. */
export const TARGET_FEED_RATIO = 1;
/** Replicated commits per second, as a share of raw JetStream R3 publish-acks of one log record each, at each in-flight level. */
export const TARGET_REPLICATED_RAW_RATIO = 0.8;
/** Durable commits per second with the log shipped to JetStream, as a share of those without shipping. */
export const TARGET_SHIPPING_RATIO = 0.9;
/** A replica's lag p99 at the primary's full durable rate: from a commit's resolve on the primary to its apply. */
export const TARGET_REPLICA_LAG_P99_MS = 50;
/** A replica's applied commits per second, as a share of the primary's commits per second in the same window. */
export const TARGET_REPLICA_KEEPS_UP_RATIO = 1;

/**
 * Durable commits kept in flight, one measured loop each. The largest bounds
 * the promises (and async lanes) a loop holds at once.
 */
export const DURABLE_IN_FLIGHT: readonly number[] = [1, 16, 256, 4096];
/** Bytes of one write of the fdatasync probe: about one small log record. */
export const SYNC_PROBE_WRITE_BYTES = 64;
/** The probe's file, written full of zeros first; its writes wrap around inside it. */
export const SYNC_PROBE_FILE_BYTES = 4 * 1024 * 1024;
/** Replicated commits (and raw publishes) kept in flight, one set of measured runs each. */
export const REPLICATION_IN_FLIGHT: readonly number[] = [1, 16, 256];
/** Runs of each side of an A/B comparison in the `replication` workload, interleaved; the median is reported. */
export const REPLICATION_RUNS = 3;
/** Significant digits of every latency histogram (0.1% resolution). */
export const LATENCY_SIGNIFICANT_DIGITS = 3;
/** Sampling interval of monitorEventLoopDelay. */
export const EVENT_LOOP_RESOLUTION_MS = 1;
/** The in-flight level during which the main thread's event-loop delay is sampled. */
export const EVENT_LOOP_IN_FLIGHT = 256;
/** How long the idle event loop is sampled, for the baseline of its delay. */
export const EVENT_LOOP_IDLE_MS = 500;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`bench constants: ${message}`);
}

check(MAX_ROWS < 2 ** 31, 'ids fit int32');
check(BUILD_BATCH_ROWS > 0 && BUILD_BATCH_ROWS <= MAX_ROWS, 'a build batch fits a data set');
check(COMMIT_CHUNK_OPS > 0 && COMMIT_CHUNK_OPS <= BUILD_BATCH_ROWS, 'a commit chunk is smaller than a build batch');
check(READ_CHUNK_OPS > 0 && WARMUP_OPS <= MAX_OPS, 'chunks and warm-up fit the op bound');
check(SYNC_PROBE_FILE_BYTES % SYNC_PROBE_WRITE_BYTES === 0, 'probe writes tile the probe file');
check(DURABLE_IN_FLIGHT[0] === 1, 'one commit in flight is measured: the fdatasync ratio needs it');
check(
  DURABLE_IN_FLIGHT.every((k, i) => Number.isInteger(k) && (i === 0 || k > DURABLE_IN_FLIGHT[i - 1]!)),
  'in-flight levels ascend',
);
check(DURABLE_IN_FLIGHT.includes(EVENT_LOOP_IN_FLIGHT), 'the event loop is watched during a measured level');
check(
  REPLICATION_IN_FLIGHT.every((k, i) => Number.isInteger(k) && k > 0 && (i === 0 || k > REPLICATION_IN_FLIGHT[i - 1]!)),
  'replication in-flight levels ascend',
);
check(REPLICATION_IN_FLIGHT.includes(EVENT_LOOP_IN_FLIGHT), 'replication is measured at the durable full-load level');
check(REPLICATION_RUNS % 2 === 1, 'an odd number of runs has a middle one');
check(GC_PASSES >= 1 && GC_SETTLE_PASSES >= 2, 'at least one gc call, and a second sample to compare with');
