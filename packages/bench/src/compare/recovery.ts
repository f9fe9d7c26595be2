/**
 * Recovery side by side: each store is loaded with N rows (batched commits
 * at its first setting), closed cleanly, then opened again by a fresh peer;
 * the time counts from `open` until the row count is read and the last row
 * read back by key. Memory per row is what the process's resident set (and,
 * for a server, the server's own count) grew by across that reopen, and disk
 * per row is the directory's size.
 *
 * What "open" does differs, and the report says so: Tidemark and the Map
 * load every row into memory; Redis loads its AOF or its RDB; SQLite and
 * LMDB only open their files and read pages on demand, so their reopen is
 * not a load (they are compared with each other, PeerFactory.loadsAtOpen).
 */
import { readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRows, rowAt, type Account } from '../data.js';
import { sampleMemory } from '../measure.js';
import type { PeerFactory, PeerOptions } from '../peers/peer.js';
import { timed } from './lanes.js';
import type { Measurement } from './measurement.js';

/** Bytes of every file under `dir`. */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

/** Recovery figures compare stores that load every row at open with each other, and those that read on demand with each other. */
export function recoveryGroup(factory: Pick<PeerFactory, 'loadsAtOpen'>): string {
  return factory.loadsAtOpen ? 'loads every row at open' : 'reads pages on demand';
}

export interface RecoveryCase {
  factory: PeerFactory;
  setting: string;
  /** The label of the setting in the report (e.g. 'delayed, 1 recovery worker'). */
  label: string;
  options?: PeerOptions;
}

async function loadAndClose(c: RecoveryCase, dir: string, rows: number, batchRows: number, seed: number): Promise<void> {
  const columns = generateRows(rows, seed);
  const peer = c.factory.create(c.setting, c.options);
  try {
    await peer.open(dir);
    for (let i = 0; i < rows; i += batchRows) {
      const batch: Account[] = [];
      for (let j = i; j < Math.min(rows, i + batchRows); j++) batch.push(rowAt(columns, j));
      await peer.putBatch(batch);
    }
  } finally {
    await peer.close();
  }
}

/** Loads, closes, reopens and measures; three measurements (seconds, memory and disk per row). */
export async function measureRecovery(c: RecoveryCase, dir: string, rows: number, batchRows: number, seed: number): Promise<Measurement[]> {
  await mkdir(dir, { recursive: true });
  await loadAndClose(c, dir, rows, batchRows, seed);
  const base = { workload: 'recovery', store: c.factory.name, setting: c.label, durable: false, x: rows, group: recoveryGroup(c.factory) } as const;
  const label = `${rows.toLocaleString('en-US')} rows`;
  const before = await sampleMemory();
  const peer = c.factory.create(c.setting, c.options);
  try {
    let count = 0;
    let last: Account | undefined;
    const t = await timed(async () => {
      await peer.open(dir);
      count = await peer.count();
      last = await peer.get(rows);
    });
    if (count !== rows || last === undefined) throw new Error(`${c.factory.name} (${c.label}) reopened with ${count} rows of ${rows}${last === undefined ? ', the last one missing' : ''}`);
    const after = await sampleMemory();
    const server = peer.serverMemoryBytes === undefined ? 0 : await peer.serverMemoryBytes();
    const memory = Math.max(0, after.rssBytes - before.rssBytes) + server;
    return [
      { ...base, figure: `seconds to reopen, ${label}`, unit: 's', better: 'lower', value: t.seconds, loopDelayP99Ms: t.loopDelayP99Ms },
      { ...base, workload: 'memory', figure: `bytes/row after reopen, ${label}`, unit: 'B/row', better: 'lower', value: memory / rows },
      { ...base, workload: 'disk', figure: `bytes/row on disk, ${label}`, unit: 'B/row', better: 'lower', value: directoryBytes(dir) / rows },
    ];
  } finally {
    await peer.close();
  }
}
