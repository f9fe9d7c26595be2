/**
 * @tidemark/bench: Tidemark side by side with the stores a Node user would
 * pick instead, the workloads that measure Tidemark beside a baseline, and
 * the runner that prints and records them. The public API is this list.
 */
export { workloads, findWorkload } from './registry.js';
export { keyPicker, type KeyDistribution } from './keys.js';
export {
  runBench,
  runWorkload,
  resolveParams,
  validateRunOptions,
  writeResultsFolder,
  UsageError,
  PEERS_NAME,
} from './runner.js';
export { runComparison, QUICK, FULL, vsBestPeer, vsLimit } from './compare/index.js';
export type { CompareSizes, Comparison, Limit, Measurement, StoreCase } from './compare/index.js';
export { PEERS, checkPeer } from './peers/index.js';
export type { Peer, PeerFactory } from './peers/index.js';
export { benchResults, readResults, writeResults, ResultsFileError, RESULTS_FILE } from './report/results.js';
export type { BenchResults, RunMode } from './report/results.js';
export { compareRuns, formatRunComparison } from './report/compare_runs.js';
export type { RunOptions, FilledRunOptions } from './runner.js';
export { ratioOf, targetMet } from './workload.js';
export type { Figure, Sizes, Target, Workload, WorkloadParams, WorkloadResult } from './workload.js';
export { formatTable, formatNumber } from './report/table.js';
export { machineInfo, resultDocument, defaultOutDir } from './report/json.js';
export type { MachineInfo, ResultDocument } from './report/json.js';
export { generateRows, randomIds, prng, ACCOUNTS } from './data.js';
export type { RowColumns } from './data.js';
