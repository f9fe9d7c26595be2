/**
 * @tidemark/core/internal: what the worker entry points (packages/workers/
 * src/entries) wire together: the loops and tasks, the file layer, and the
 * thread plumbing. Not a public API: it changes with the engine.
 */
export { toWire } from './errors.js';
export { indexEntries, type IndexEntriesTask } from './table/index_entries.js';
export type { IndexEntriesOutcome } from './table/index_pool.js';
export { readWalChanges, type WalChanges, type WalChangesTask } from './feed/wal_changes.js';
export { backupTask, type BackupOutcome, type BackupTask } from './backup/backup_runner.js';
export { NodeFileLayer } from './files/file_layer.js';
export type { LogWriterData } from './log/log_writer_api.js';
export { LogWriterLoop } from './log/log_writer_loop.js';
export { runLogWriter } from './log/log_writer_run.js';
export type { StreamerData } from './checkpoint/streamer_api.js';
export { StreamerLoop } from './checkpoint/streamer_loop.js';
export { runStreamer } from './checkpoint/streamer_run.js';
export { PoolMergeRunner } from './checkpoint/merge_pool.js';
export { mergeOutcome, type MergeOutcome, type MergeTask } from './checkpoint/merge_task.js';
export { recoverCfp } from './recovery/cfp_task.js';
export { RingBatchSink } from './recovery/ring_sink.js';
export type { RecoveryTaskData, RecoveryTaskOutcome } from './recovery/recovery_api.js';
export { endpointOf } from './threads/endpoint.js';
export { onStart } from './threads/start_message.js';
export { lowerThreadPriority } from './threads/priority.js';
export { coreWaitClock } from './threads/core_wait.js';
