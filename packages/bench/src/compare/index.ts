/**
 * The side-by-side comparison: the machine's limits, then every store of
 * PEERS at every one of its settings through the same workloads, then
 * recovery of each store at each data-set size. A store that cannot run
 * here is listed with the reason, never dropped.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { PEERS } from '../peers/index.js';
import type { PeerFactory } from '../peers/peer.js';
import { measureLimits } from './limits.js';
import type { Comparison, Measurement, StoreCase } from './measurement.js';
import { measureRecovery, recoveryGroup, type RecoveryCase } from './recovery.js';
import type { CompareSizes } from './sizes.js';
import { runStoreCase } from './store_run.js';

export interface CompareOptions {
  sizes: CompareSizes;
  /** An existing folder; the comparison works in a folder of its own under it and removes it. */
  dir: string;
  seed: number;
  log: (line: string) => void;
  /** The stores to run; default PEERS. */
  peers?: readonly PeerFactory[];
}

/** Each store reopens at every setting that is not durable (a durable one keeps the same files); Tidemark with 1 and all workers. */
function recoveryCases(factory: PeerFactory): RecoveryCase[] {
  const setting = factory.settings[0]!;
  if (factory.name !== 'tidemark') {
    return factory.settings.filter((s) => !factory.create(s).durable).map((s) => ({ factory, setting: s, label: s }));
  }
  return [
    { factory, setting, label: `${setting}, 1 recovery worker`, options: { recoveryWorkers: 1 } },
    { factory, setting, label: `${setting}, up to ${availableParallelism()} recovery workers` },
  ];
}

function recoveryFailure(c: RecoveryCase, rows: number, error: unknown): Measurement {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  return {
    workload: 'recovery',
    figure: `seconds to reopen, ${rows.toLocaleString('en-US')} rows`,
    unit: 's',
    better: 'lower',
    store: c.factory.name,
    setting: c.label,
    durable: false,
    value: null,
    error: message,
    x: rows,
    group: recoveryGroup(c.factory),
  };
}

export async function runComparison(options: CompareOptions): Promise<Comparison> {
  const { sizes, seed, log } = options;
  const root = join(options.dir, `tidemark-compare-${process.pid}-${Date.now()}`);
  mkdirSync(root, { recursive: true });
  try {
    log('  limits: fdatasync, sequential write and read, Map.set and Map.get (bare and through the harness loop)');
    const limits = await measureLimits(root, sizes.limits, seed, {
      rows: sizes.loadRows,
      reads: sizes.readOps,
      readsInFlight: sizes.opsInFlight,
    });
    const cases: StoreCase[] = [];
    const measurements: Measurement[] = [];
    const running: PeerFactory[] = [];
    for (const factory of options.peers ?? PEERS) {
      const skipped = await factory.available();
      for (const setting of factory.settings) {
        const peer = factory.create(setting);
        cases.push({
          store: factory.name,
          setting,
          durable: peer.durable,
          guarantee: peer.guarantee,
          ...(skipped === null ? {} : { skipped }),
        });
      }
      if (skipped !== null) {
        log(`  ${factory.name}: skipped (${skipped})`);
        continue;
      }
      running.push(factory);
      for (const [i, setting] of factory.settings.entries()) {
        const dir = join(root, `${factory.name}-${i}`);
        mkdirSync(dir);
        try {
          measurements.push(...(await runStoreCase(factory, setting, dir, sizes, seed, log)));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    for (const rows of sizes.recoveryRows) {
      for (const factory of running) {
        for (const c of recoveryCases(factory)) {
          log(`    recovery: ${factory.name} (${c.label}), ${rows.toLocaleString('en-US')} rows`);
          const dir = join(root, `recovery-${factory.name}`);
          try {
            measurements.push(...(await measureRecovery(c, dir, rows, sizes.batchRows, seed)));
          } catch (error) {
            measurements.push(recoveryFailure(c, rows, error));
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
      }
    }
    const notes = [
      'Every store runs the same rows ({ id int32, name string(16), balance float64, ts float64 }, keyed by id) in this process, one store at a time, each in a fresh directory on the same disk as the limits.',
      `Reads and YCSB keep ${sizes.opsInFlight} operations in flight (a synchronous store completes each at once); an update writes the whole row at the store's setting.`,
      'Recovery reopens a cleanly closed store at each setting that is not durable: Tidemark and map-json load every row into memory, Redis loads its AOF or its RDB; SQLite and LMDB only open their files and read pages on demand later, so they are compared with each other.',
      "Each reopen runs in a fresh process, as a restart does; memory per row is the growth of that process's resident set across the reopen (plus, for Redis, the server's used_memory); it is noisy where little is loaded.",
      'Latency is what a caller sees, from when its lane is ready to when its operation is done: with a synchronous store (better-sqlite3, LMDB transactionSync) the K callers take turns, and the wait is in it.',
    ];
    return { cases, limits, measurements, notes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export { QUICK, FULL, type CompareSizes } from './sizes.js';
export type { Comparison, Limit, Measurement, StoreCase } from './measurement.js';
export { vsBestPeer, vsLimit } from './measurement.js';
