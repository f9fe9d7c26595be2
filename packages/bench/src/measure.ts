/**
 * Clocks and memory samples. Time comes from process.hrtime.bigint (monotonic,
 * nanoseconds). Memory is sampled after forced garbage collection when node
 * runs with --expose-gc; without it samples include garbage and the harness
 * says so once.
 */
import { build, type Histogram } from 'hdr-histogram-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { GC_PASSES, GC_SETTLE_BYTES, GC_SETTLE_MS, GC_SETTLE_PASSES, LATENCY_SIGNIFICANT_DIGITS } from './constants.js';

type GcFunction = () => void;

function gcFunction(): GcFunction | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as GcFunction) : undefined;
}

export function gcExposed(): boolean {
  return gcFunction() !== undefined;
}

let warned = false;

/** Warns once (through `log`) when memory figures cannot be taken after a forced GC. */
export function warnIfNoGc(log: (line: string) => void): void {
  if (warned || gcExposed()) return;
  warned = true;
  log(
    'warning: global.gc is not exposed, so memory figures include garbage; run node with --expose-gc (pnpm bench does)',
  );
}

/** Runs every collection it can, several times over. Does nothing without --expose-gc. */
export function collectGarbage(): void {
  const gc = gcFunction();
  if (gc === undefined) return;
  for (let i = 0; i < GC_PASSES; i++) gc();
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

/** The time by which a loop limited to `seconds` must stop; null: no limit. */
export function deadlineNs(seconds: number | null): bigint | null {
  return seconds === null ? null : process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
}

export function pastDeadline(deadline: bigint | null): boolean {
  return deadline !== null && process.hrtime.bigint() >= deadline;
}

/**
 * What the process holds, from process.memoryUsage(). In Node 20 `external`
 * counts ordinary ArrayBuffers but not SharedArrayBuffers, while
 * `arrayBuffers` counts both; so heapUsed + external + arrayBuffers counts
 * every byte, and ordinary ArrayBuffers twice.
 */
export interface MemorySample {
  heapUsedBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  rssBytes: number;
}

function readMemory(): MemorySample {
  const m = process.memoryUsage();
  return { heapUsedBytes: m.heapUsed, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers, rssBytes: m.rss };
}

/** heapUsed + external + arrayBuffers. */
export function jsBytes(sample: MemorySample): number {
  return sample.heapUsedBytes + sample.externalBytes + sample.arrayBuffersBytes;
}

/**
 * A memory sample taken after forced garbage collection, once the figures
 * settle. V8 frees the backing stores of dead ArrayBuffers on a background
 * thread after a GC, so a sample right after gc() can still count them;
 * collecting again after a pause, until two samples agree, waits for that.
 */
export async function sampleMemory(): Promise<MemorySample> {
  collectGarbage();
  let last = readMemory();
  for (let pass = 1; pass < GC_SETTLE_PASSES && gcExposed(); pass++) {
    await sleep(GC_SETTLE_MS);
    collectGarbage();
    const next = readMemory();
    const moved = Math.abs(jsBytes(next) - jsBytes(last));
    last = next;
    if (moved < GC_SETTLE_BYTES) break;
  }
  return last;
}

/** Growth of heapUsed + external + arrayBuffers between two samples, per row. */
export function jsBytesPerRow(before: MemorySample, after: MemorySample, rows: number): number {
  return (jsBytes(after) - jsBytes(before)) / rows;
}

/** Growth of the resident set between two samples, per row. */
export function rssBytesPerRow(before: MemorySample, after: MemorySample, rows: number): number {
  return (after.rssBytes - before.rssBytes) / rows;
}

/** Operations per second. */
export function rate(ops: number, seconds: number): number {
  return seconds > 0 ? ops / seconds : 0;
}

/** A histogram of latencies in whole microseconds; it grows to fit the largest value recorded. */
export function latencyHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: LATENCY_SIGNIFICANT_DIGITS });
}

/** Records a latency given in milliseconds (performance.now() differences) as whole microseconds. */
export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
}

/** Percentiles of a latency histogram, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

export function latencySummary(histogram: Histogram): LatencySummary {
  const ms = (percentile: number): number => histogram.getValueAtPercentile(percentile) / 1000;
  return { count: histogram.totalCount, p50Ms: ms(50), p99Ms: ms(99), p999Ms: ms(99.9) };
}

/** The median of `values` (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
