/** What the main thread and the log writer worker say to each other (through comlink). */
import type { FilledOptions } from '../options.js';
import type { DiskStateName } from './log_control.js';

/** The options the log writer reads, passed to it as they were filled (options.ts documents them). */
export const LOG_WRITER_OPTIONS = [
  'walSegmentBytes',
  'maxDelayMs',
  'fileMode',
  'archiveDir',
  'maxRetainedWalBytes',
] as const;
export type LogWriterOption = (typeof LOG_WRITER_OPTIONS)[number];

export interface LogWriterData extends Pick<FilledOptions, LogWriterOption> {
  ring: SharedArrayBuffer;
  control: SharedArrayBuffer;
  dir: string;
  /** As a decimal string: bigint does not survive every transfer path. */
  databaseId: string;
  seq: number;
  offset: number;
  /** Zero [offset, zeroUntil) before appending: what is left of a torn batch. */
  zeroUntil: number;
  /** The newest commitTs replayed at open (0 if none): what a seal written before any new batch records. */
  lastCommitTs: number;
  /** WAL segment files kept on disk at most; free ones past it are deleted at rollover. */
  maxSegments: number;
}

export interface LogWriterStats {
  batches: number;
  bytes: number;
  syncs: number;
  segmentsCreated: number;
  segmentsRecycled: number;
  segmentsDeleted: number;
  durableTs: number;
  /** Bytes the log can take without allocating (the rest of the segment, a reserved spare). */
  reservedBytes: number;
  /** Times the disk was found full, and whether it is now ('ok', 'no-reserve', 'stalled'). */
  diskFullEvents: number;
  disk: DiskStateName;
}

export interface LogWriterApi {
  stats(): LogWriterStats;
  /** Drains the ring (closed by the main thread first), syncs, closes files; resolves with the final stats. */
  stop(): Promise<LogWriterStats>;
}
