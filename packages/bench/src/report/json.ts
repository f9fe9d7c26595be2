/**
 * A workload's result as a JSON document: the machine, the parameters, every
 * figure with its ratio and whether its target was met, counts and notes.
 * A run's results.json (results.ts) holds one per workload; by default it is
 * written to `bench-results/<YYYY-MM-DD>` under the current directory.
 */
import { cpus, platform, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { gcExposed } from '../measure.js';
import { ratioOf, targetMet, type Figure, type WorkloadParams, type WorkloadResult } from '../workload.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  platform: string;
  osRelease: string;
  node: string;
  v8: string;
  gcExposed: boolean;
}

export interface ResultDocument {
  workload: string;
  description: string;
  startedAt: string;
  machine: MachineInfo;
  parameters: WorkloadParams;
  figures: Array<Figure & { ratio: number | null; met: boolean | null }>;
  counts: Record<string, number>;
  notes: string[];
  series?: Record<string, Array<Record<string, number>>>;
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    totalMemoryBytes: totalmem(),
    platform: platform(),
    osRelease: release(),
    node: process.version,
    v8: process.versions.v8,
    gcExposed: gcExposed(),
  };
}

/** The date as YYYY-MM-DD in local time, for the results folder. */
export function localDate(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
}

export function defaultOutDir(date: Date): string {
  return resolve(process.cwd(), 'bench-results', localDate(date));
}

export function resultDocument(
  workload: { name: string; description: string },
  params: WorkloadParams,
  result: WorkloadResult,
  startedAt: Date,
): ResultDocument {
  return {
    workload: workload.name,
    description: workload.description,
    startedAt: startedAt.toISOString(),
    machine: machineInfo(),
    parameters: params,
    figures: result.figures.map((f) => ({ ...f, ratio: ratioOf(f), met: targetMet(f) })),
    counts: result.counts,
    notes: result.notes,
    ...(result.series === undefined ? {} : { series: result.series }),
  };
}
