/** What the main thread and the checkpoint streamer worker say to each other (through comlink). */
import type { CheckpointResult, MergeCounters } from './checkpoint_writer.js';
import type { MergeResult } from './merge_task.js';
import type { FilledOptions } from '../options.js';
import type { CfpEntry, RootBody } from './root_format.js';

/** The options the streamer reads, passed to it as they were filled (options.ts documents them). */
export const STREAMER_OPTIONS = [
  'dataFileSizeBytes',
  'precreatedFiles',
  'checkpointWalBytes',
  'walSegmentBytes',
  'checkpointIntervalMs',
  'merges',
  'mergeDeadFraction',
  'mergeIntervalMs',
  'fileMode',
] as const;
export type StreamerOption = (typeof STREAMER_OPTIONS)[number];

export interface StreamerData extends Pick<FilledOptions, StreamerOption> {
  /** The log control cells: DURABLE_TS is read, FIRST_NEEDED_SEQ is raised after each checkpoint. */
  control: SharedArrayBuffer;
  dir: string;
  /** As a decimal string: bigint does not survive every transfer path. */
  databaseId: string;
  /** The root the database was opened from (null: none yet); streaming resumes at its WAL position. */
  root: RootBody | null;
  /**
   * True when this streamer replaces one that stopped for lack of space: it
   * reads the newest root from disk instead (the failed one may have
   * published roots since open) and removes the files the failed one made
   * after it, as an open after a crash does.
   */
  restart: boolean;
}

/** What `db.merge()` did: the merges installed, and the files deleted once no root needed them. */
export interface MergeReport {
  merges: MergeResult[];
  filesDeleted: number;
  /** The checkpoint files that hold rows afterwards, and their bytes on disk. */
  cfps: number;
  diskBytes: number;
  durationMs: number;
  /** Set when a merge failed (its files removed, the sources kept): the code and message. */
  error: { code: string; message: string } | null;
}

export interface StreamerStats {
  checkpoints: number;
  /** The newest commitTs streamed into the CFP files, and the newest one a checkpoint covers. */
  streamedTs: number;
  checkpointTs: number;
  rootSeq: number;
  walBytesStreamed: number;
  /** Bytes written to data and delta files. */
  bytesWritten: number;
  filesCreated: number;
  /** New CFPs opened with no PRECREATED file ready (that file is then made while streaming, in streamMs). */
  poolMisses: number;
  /** Milliseconds spent pre-creating pool pairs ahead of need (idle, or once the pair being written is half full). */
  poolMs: number;
  /** Merges installed, failed, and what they did; time spent in merge tasks. */
  merge: MergeCounters & { mergeMs: number; running: boolean; lastError: { code: string; message: string } | null };
  /** Milliseconds spent in checkpoints (fsyncs and root writes) and in streaming. */
  checkpointMs: number;
  streamMs: number;
  /**
   * Of that time, what the streamer's thread spent waiting for a core (it
   * runs at a lower priority than the commit path, so it waits whenever
   * every core is busy); null where there is no such clock
   * (threads/core_wait.ts).
   */
  streamCoreWaitMs: number | null;
  checkpointCoreWaitMs: number | null;
  lastCheckpoint: CheckpointResult | null;
}

export interface StreamerInventory {
  rootSeq: number;
  checkpointTs: number;
  /** The WAL position the newest root replays from. */
  wal: { seq: number; offset: number };
  cfps: CfpEntry[];
}

export interface StreamerApi {
  /** Streams at least up to `uptoTs` (already durable), then checkpoints; null if nothing changed since the last root. */
  checkpoint(uptoTs: number): Promise<CheckpointResult | null>;
  inventory(): StreamerInventory;
  /** Streams up to `uptoTs`, then merges while the policy finds something, installs, and retires the sources. */
  merge(uptoTs: number): Promise<MergeReport>;
  stats(): StreamerStats;
  /** Streams up to `finalTs`, checkpoints, closes the files; resolves with the final stats. */
  stop(finalTs: number): Promise<StreamerStats>;
}
