/**
 * `tidemark recover <dir> [--workers N]`: opens the database with a
 * progress bar per phase and per pair being loaded, then prints the
 * recovery figures (db.stats().recovery) and closes it.
 */
import { basename } from 'node:path';
import { type Database, open } from '../database.js';
import type { RecoveryProgress } from '../recovery/progress.js';
import { bytes, existingDatabase, num, type Io } from './output.js';
import { progressFor, type Bar } from './progress.js';

const MB = 1e6;

export async function runRecover(dir: string, options: { workers?: number; json?: boolean }, io: Io): Promise<number> {
  const workers = options.workers;
  existingDatabase(dir);
  const progress = progressFor(io);
  const bars = new Map<string, Bar>();
  const barFor = (key: string, label: string, total: number, unit: string): Bar => {
    let bar = bars.get(key);
    if (bar === undefined) {
      bar = progress.bar(label, total, unit);
      bars.set(key, bar);
    }
    return bar;
  };
  const onProgress = (p: RecoveryProgress): void => {
    if (p.phase === 'checkpoint') {
      barFor('checkpoint', `checkpoint (${p.workers} workers)`, p.totalBytes, 'bytes').update(p.bytes, p.totalBytes);
      for (const c of p.cfps) {
        const bar = barFor(`pair ${c.id}`, `  pair ${c.id}`, c.totalBytes, 'bytes');
        bar.update(c.bytes, c.totalBytes);
      }
    } else if (p.phase === 'indexes') barFor('indexes', 'indexes', p.totalBytes, 'rows').update(p.rows);
    else if (p.phase === 'wal')
      barFor('wal', 'WAL tail', p.totalBytes, 'bytes').update(p.bytes, Math.max(p.totalBytes, p.bytes));
    else for (const bar of bars.values()) bar.done();
  };
  const started = performance.now();
  let db: Database;
  try {
    db = await open({ dir, onProgress, ...(workers === undefined ? {} : { recoveryWorkers: workers }) });
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  try {
    const stats = db.stats();
    const r = stats.recovery!;
    if (options.json === true) {
      io.out(JSON.stringify({ seconds, recovery: r, tables: stats.tables }, null, 2));
      return 0;
    }
    const c = r.checkpoint;
    const rows = stats.tables.reduce((n, t) => n + t.rows, 0);
    io.out(
      `recovered ${dir} in ${seconds.toFixed(2)} s: ${num(rows)} rows in ${stats.tables.length} table${stats.tables.length === 1 ? '' : 's'}`,
    );
    io.out(`  root: ${r.root === null ? 'none' : basename(r.root)} (checkpoint at commitTs ${num(r.checkpointTs)})`);
    if (c !== null) {
      io.out(
        `  checkpoint: ${c.cfps} pairs with ${c.workers} worker${c.workers === 1 ? '' : 's'}: ${num(c.rows)} rows linked, ${num(c.skipped)} deleted ones skipped, ${bytes(c.bytes)} read in ${c.loadMs.toFixed(0)} ms (${(c.bytes / MB / Math.max(c.loadMs / 1000, 1e-9)).toFixed(0)} MB/s, ${num(Math.round(c.rows / Math.max(c.loadMs / 1000, 1e-9)))} rows/s); indexes ${c.indexMs.toFixed(0)} ms`,
      );
    }
    io.out(
      `  WAL tail: ${num(r.records)} records, ${bytes(r.bytes)} in ${r.segments} segment${r.segments === 1 ? '' : 's'}, ${r.walMs.toFixed(0)} ms${r.tornTail === null ? '' : `; torn tail cut at ${r.tornTail.file} offset ${num(r.tornTail.offset)}`}`,
    );
    for (const s of r.skippedRoots) io.out(`  skipped root ${s.file}: ${s.reason}`);
    if (r.removedFiles.length > 0) io.out(`  removed leftovers: ${r.removedFiles.join(', ')}`);
    for (const t of stats.tables)
      io.out(
        `  table ${t.name}: ${num(t.rows)} rows, ${bytes(t.liveBytes)} live in ${bytes(t.reservedBytes)} of arena`,
      );
    return 0;
  } finally {
    await db.close();
  }
}
