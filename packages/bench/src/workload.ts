/**
 * What a workload is and what it reports. A workload measures Tidemark and a
 * baseline (a plain Map of JS objects) side by side, in one process, on the
 * same generated rows, and returns figures; it never asserts on them. Whether
 * a target is met is worked out from the figures when they are reported.
 */

/** How many rows and operations a workload uses. */
export interface Sizes {
  /** Rows built or inserted into the table; 0 where a workload has none (`durable` counts commits in ops). */
  rows: number;
  /** Operations of the measured loops (updates, gets); unused by `build`. */
  ops: number;
  /**
   * Default time limit of each measured loop at this size, for workloads
   * whose loops run at the disk's pace; `--seconds` overrides it. None: no limit.
   */
  seconds?: number;
}

export interface WorkloadParams {
  rows: number;
  ops: number;
  /** Each measured loop stops after this many seconds, even if ops remain; null: no limit. */
  secondsLimit: number | null;
  seed: number;
  /** Folder under which a workload that writes files makes its temporary folder; null: the OS temp folder. */
  dir: string | null;
}

/**
 * A target from the issue: the Tidemark figure (or the ratio
 * Tidemark / baseline) must be at least, or at most, `value`.
 */
export interface Target {
  on: 'tidemark' | 'ratio';
  compare: 'atLeast' | 'atMost';
  value: number;
}

export interface Figure {
  name: string;
  /** Unit of the tidemark and baseline figures, e.g. 'rows/s', 'B/row'. */
  unit: string;
  tidemark: number | null;
  baseline: number | null;
  target: Target | null;
}

export interface WorkloadResult {
  figures: Figure[];
  /** How the figures were taken, in sentences, printed under the table. */
  notes: string[];
  /** Counts actually run (a time limit can cut loops short). */
  counts: Record<string, number>;
  /** Figures sampled over time, by name (for charts): one object of numbers per sample. */
  series?: Record<string, Array<Record<string, number>>>;
}

export interface Workload {
  readonly name: string;
  readonly description: string;
  /** What the baseline column holds, for the table's title; default a Map of JS objects. */
  readonly baseline?: string;
  /** Sizes of a named run, and of the quick run of every workload (no name given). */
  readonly sizes: { readonly full: Sizes; readonly quick: Sizes };
  run(params: WorkloadParams, log: (line: string) => void): Promise<WorkloadResult>;
}

/** Tidemark / baseline, or null where either is missing or the baseline is 0. */
export function ratioOf(figure: Figure): number | null {
  if (figure.tidemark === null || figure.baseline === null || figure.baseline === 0) return null;
  return figure.tidemark / figure.baseline;
}

/** Whether the figure meets its target; null without a target or a value to judge. */
export function targetMet(figure: Figure): boolean | null {
  const target = figure.target;
  if (target === null) return null;
  const value = target.on === 'ratio' ? ratioOf(figure) : figure.tidemark;
  if (value === null) return null;
  return target.compare === 'atLeast' ? value >= target.value : value <= target.value;
}
