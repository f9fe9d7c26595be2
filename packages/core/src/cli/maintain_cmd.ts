/**
 * `tidemark checkpoint <dir>` and `tidemark merge <dir>`: open the database
 * (recovering it), checkpoint or merge now, close, and print what changed:
 * the result, then the files added and removed and the totals before and
 * after (from inspect.ts, read with the database closed).
 */
import { open } from '../database.js';
import { inspect, type InspectReport } from '../inspect.js';
import { bytes, existingDatabase, num, percent, type Io } from './output.js';

function changes(before: InspectReport, after: InspectReport): string[] {
  const names = (r: InspectReport): Set<string> => new Set(r.files.map((f) => f.file));
  const was = names(before);
  const now = names(after);
  const added = [...now].filter((f) => !was.has(f));
  const removed = [...was].filter((f) => !now.has(f));
  const total = (r: InspectReport): number =>
    r.totals.dataBytes + r.totals.deltaBytes + r.totals.walBytes + r.totals.freeWalBytes + r.totals.rootBytes;
  return [
    `files added: ${added.join(', ') || 'none'}`,
    `files removed: ${removed.join(', ') || 'none'}`,
    `pairs: ${before.pairs.length} -> ${after.pairs.length}; bytes on disk: ${bytes(total(before))} -> ${bytes(total(after))}; live: ${percent(before.totals.liveFraction)} -> ${percent(after.totals.liveFraction)}`,
  ];
}

export async function runMaintenance(
  what: 'checkpoint' | 'merge',
  dir: string,
  options: { json?: boolean },
  io: Io,
): Promise<number> {
  const before = inspect(existingDatabase(dir));
  // No timed merge check: a merge the background policy ran before db.merge() asked would be left
  // out of the report this command prints.
  const db = await open({ dir, mergeIntervalMs: 0 });
  let result: unknown;
  try {
    result = what === 'checkpoint' ? await db.checkpoint() : await db.merge();
  } finally {
    await db.close();
  }
  const after = inspect(dir);
  // A merge that failed (its files removed, the sources kept) is a failure of the command.
  const status = what === 'merge' && (result as { error: unknown }).error !== null ? 1 : 0;
  if (options.json === true) {
    io.out(JSON.stringify({ [what]: result, before: before.totals, after: after.totals }, null, 2));
    return status;
  }
  if (what === 'checkpoint') {
    const r = result as Awaited<ReturnType<typeof db.checkpoint>>;
    io.out(
      r === null
        ? 'checkpoint: nothing changed since the last one'
        : `checkpoint: published ${r.file} at commitTs ${num(r.checkpointTs)}, ${r.filesSynced} files synced, ${r.durationMs.toFixed(1)} ms; WAL needed from segment ${r.walSeq}`,
    );
  } else {
    const r = result as Awaited<ReturnType<typeof db.merge>>;
    if (r.merges.length === 0) io.out('merge: the policy found nothing to merge');
    for (const m of r.merges) {
      io.out(
        `merge: pairs ${m.sources.join(', ')} -> ${m.targets.map((t) => t.id).join(', ')}: ${num(m.rowsWritten)} rows kept, ${num(m.rowsDropped)} dropped, ${bytes(m.bytesRead)} read, ${bytes(m.bytesWritten)} written, ${m.durationMs.toFixed(1)} ms`,
      );
    }
    io.out(`merge: ${r.filesDeleted} files deleted; ${r.cfps} pairs hold rows in ${bytes(r.diskBytes)}`);
    if (r.error !== null) io.err(`merge failed: ${r.error.message} [${r.error.code}]`);
  }
  for (const line of changes(before, after)) io.out(line);
  return status;
}
