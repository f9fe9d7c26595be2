/**
 * @tidemark/core/internal: the modules the worker entry points are built
 * from. Not a public API: it changes with the engine.
 */
export { NodeFileLayer, writeAll, readAll, isDiskFull, fileError, type FileLayer } from './files/file_layer.js';
export {
  SimFileLayer,
  SimCrash,
  SIM_DAMAGES,
  type SimDamage,
  type SimFaultKind,
  type SimOp,
} from './files/sim_layer.js';
export { RingConsumer, RingProducer, createRingBuffer } from './ring/ring.js';
export { WalWriter, type WalWriterOptions } from './log/wal_writer.js';
export {
  CLOSING,
  DISK_STATE,
  DiskState,
  DURABLE_TS,
  FIRST_NEEDED_SEQ,
  WAITED_TS,
  publishDurable,
  publishCells,
  controlCells,
  diskStateName,
  WAL_BYTES,
  CHECKPOINTS,
  CFP_COUNTS,
  CFP_STATE_ORDER,
} from './log/log_control.js';
export type { LogWriterApi, LogWriterData, LogWriterStats } from './log/log_writer_api.js';
export { endpointOf } from './threads/endpoint.js';
export { onStart } from './threads/start_message.js';
export { lowerThreadPriority } from './threads/priority.js';
export { coreWaitClock, type WaitClock } from './threads/core_wait.js';
export { createLogControl } from './log/log_control.js';
export { OP_INSERT, OP_DELETE, OP_CREATE_TABLE, RecordBuilder, visitRecord, type RecordVisitor } from './log/record.js';
export { replayWal, type WalPosition } from './log/wal_reader.js';
export {
  CheckpointWriter,
  streamStepBytes,
  type CheckpointResult,
  type CheckpointWriterOptions,
} from './checkpoint/checkpoint_writer.js';
export { CfpState } from './checkpoint/cfp_format.js';
export { FILE_HEADER_BYTES } from './files/file_header.js';
export {
  mergeOutcome,
  type MergeOutcome,
  type MergeResult,
  type MergeRunner,
  type MergeTask,
} from './checkpoint/merge_task.js';
export type { MergePlan } from './checkpoint/merge_policy.js';
export { PoolMergeRunner } from './checkpoint/merge_pool.js';
export { WalTail, type TailRecord } from './checkpoint/wal_tail.js';
export { readNewestRoot } from './checkpoint/root_format.js';
export { removeLeftovers } from './checkpoint/leftovers.js';
export type {
  MergeReport,
  StreamerApi,
  StreamerData,
  StreamerInventory,
  StreamerStats,
} from './checkpoint/streamer_api.js';
export { recoverCfp, type CfpTask, type CfpTaskResult } from './recovery/cfp_task.js';
export { RingBatchSink, RecoveryCanceled } from './recovery/ring_sink.js';
export type { RecoveryTaskData, RecoveryTaskOutcome } from './recovery/recovery_api.js';
export { errorCodeOf } from './errors.js';
export { workerThreads, type EngineThreads, type ThreadHandle } from './threads/engine_threads.js';
export { openWith, type OpenInternals } from './database.js';
