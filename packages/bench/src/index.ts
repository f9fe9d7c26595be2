/**
 * @tidemark/bench: workloads that measure Tidemark beside a plain Map, and
 * the runner that prints and records them. The public API is this list.
 */
export { workloads, findWorkload } from './registry.js';
export { runBench, runWorkload, resolveParams, validateRunOptions, UsageError } from './runner.js';
export type { RunOptions, FilledRunOptions } from './runner.js';
export { ratioOf, targetMet } from './workload.js';
export type { Figure, Sizes, Target, Workload, WorkloadParams, WorkloadResult } from './workload.js';
export { formatTable, formatNumber } from './report/table.js';
export { machineInfo, resultDocument, writeResult, defaultOutDir } from './report/json.js';
export type { MachineInfo, ResultDocument } from './report/json.js';
export { generateRows, randomIds, prng, ACCOUNTS } from './data.js';
export type { RowColumns } from './data.js';
