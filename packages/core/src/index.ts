/**
 * @tidemark/core: a durable in-memory OLTP engine for Node.js.
 * The public API is this list; everything else is internal and may change.
 */
export { open, Database } from './database.js';
export type { DatabaseStats, SecondaryIndexStats, TableStats, TransactionOptions } from './database.js';
export type { BackupOptions, BackupProgress, BackupResult } from './backup/db_backup.js';
export type { Changes, ChangesOptions } from './feed/change_feed.js';
export type { Change, ChangeBatch } from './feed/changes.js';
export { Table } from './table.js';
export type { WriteOptions } from './table.js';
export type { DurabilityStats, LogStats, RecoveryReport } from './log/durable_log.js';
export type { CheckpointResult } from './checkpoint/checkpoint_writer.js';
export type { CheckpointFile } from './checkpoint/inventory.js';
export type { CheckpointLoad } from './recovery/load_checkpoint.js';
export type { RecoveryProgress, RecoveryPhase, CfpProgress, ProgressListener } from './recovery/progress.js';
export { RECOVERY_CHANNEL } from './recovery/progress.js';
export type { MergeReport, StreamerStats } from './checkpoint/streamer_api.js';
export type { MergedTarget, MergeResult } from './checkpoint/merge_task.js';
export type { CleanerStats } from './table/cleaner.js';
export type { MergeCounters } from './checkpoint/checkpoint_writer.js';
export type { LogWriterStats } from './log/log_writer_api.js';
export { CfpState } from './checkpoint/cfp_format.js';
export { Transaction } from './transaction.js';
export type { ReadOptions, ScanRequest, TableRef, TransactionState } from './transaction.js';
export { TidemarkError, ErrorCode, isTidemarkError } from './errors.js';
export { verify } from './verify.js';
export { inspect } from './inspect.js';
export type { InspectReport, InspectedPair } from './inspect.js';
export type {
  VerifyCode,
  VerifyOptions,
  VerifyProblem,
  VerifyReport,
  VerifiedFile,
  VerifiedFileKind,
} from './verify.js';
export type { OpenOptions } from './options.js';
export type { ColumnDef, ColumnType, IndexDef, IndexKind, Row, TableDef, TableSchema } from './schema/types.js';
export { tableDef } from './schema/row_types.js';
export type {
  DatabaseSchema,
  InsertRowOf,
  JsonValue,
  OpenOptionsOf,
  PatchOf,
  PrimaryKeyOf,
  RowOf,
  SchemaOf,
  TableName,
  TableTypes,
  TypedTableDef,
  TypesOf,
  UntypedSchema,
  UntypedTable,
} from './schema/row_types.js';
export type { LogSink } from './txn/sink.js';
export type { Durability, Isolation } from './txn/engine.js';
export type { RecordBatch, RecordFeed, ReplicationPort, Replicator } from './replica/port.js';
export { replicationPort } from './replica/public_port.js';
