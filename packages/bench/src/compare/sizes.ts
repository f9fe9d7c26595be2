/** How much each comparison workload does, at the quick size (CI smoke, `pnpm bench`) and the full size (`--full`). */
import type { LimitSizes } from './limits.js';

export interface CompareSizes {
  /** Single-row commits at each in-flight level: a time limit and a cap. */
  commitSeconds: number;
  commitMaxOps: number;
  /** In-flight levels of the commit loops. */
  inFlight: readonly number[];
  /** Rows loaded in batched commits; reads and the YCSB mixes run over them. */
  loadRows: number;
  /** Rows per batched commit. */
  batchRows: number;
  readOps: number;
  readSeconds: number;
  ycsbOps: number;
  ycsbSeconds: number;
  /** Operations kept in flight by the read and YCSB loops (a networked store needs them to be busy). */
  opsInFlight: number;
  /** Data sets recovered (rows), each store on its own. */
  recoveryRows: readonly number[];
  limits: LimitSizes;
}

export const QUICK: CompareSizes = {
  commitSeconds: 0.2,
  commitMaxOps: 50_000,
  inFlight: [1, 16, 256, 4096],
  loadRows: 20_000,
  batchRows: 1_000,
  readOps: 200_000,
  readSeconds: 0.25,
  ycsbOps: 100_000,
  ycsbSeconds: 0.25,
  opsInFlight: 64,
  recoveryRows: [20_000],
  limits: { syncSeconds: 0.5, ioBytes: 32 * 1024 * 1024, mapRows: 200_000 },
};

export const FULL: CompareSizes = {
  commitSeconds: 2,
  commitMaxOps: 5_000_000,
  inFlight: [1, 16, 256, 4096],
  loadRows: 1_000_000,
  batchRows: 1_000,
  readOps: 5_000_000,
  readSeconds: 3,
  ycsbOps: 5_000_000,
  ycsbSeconds: 3,
  opsInFlight: 64,
  recoveryRows: [1_000_000, 5_000_000],
  limits: { syncSeconds: 2, ioBytes: 512 * 1024 * 1024, mapRows: 1_000_000 },
};
