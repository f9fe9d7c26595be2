/** `tidemark inspect <dir> [--json]`: the root, every file, the pairs' live fractions and totals (inspect.ts). */
import { inspect, type InspectReport } from '../inspect.js';
import { bytes, existingDatabase, num, percent, table, type Io } from './output.js';

function commits(first: number | null, last: number | null): string {
  return first === null || last === null ? '-' : first === 0 && last === 0 ? 'none' : `${first}..${last}`;
}

export function inspectText(r: InspectReport): string[] {
  const lines = [`database ${r.dir}`];
  if (r.root === null) lines.push('root: none (a new database, or one never checkpointed: open replays its WAL)');
  else {
    lines.push(
      `root: ${r.root.file} (seq ${r.root.seq}), checkpoint at commitTs ${num(r.root.checkpointTs)}, written ${r.root.writtenAt}`,
    );
    lines.push(`WAL replays from segment ${r.root.wal.seq} offset ${num(r.root.wal.offset)}`);
    lines.push(
      `tables at the checkpoint: ${r.root.tables.map((t) => `${t.name} (schema version ${t.version}, ${num(t.rows)} rows)`).join(', ') || 'none'}`,
    );
  }
  for (const s of r.skippedRoots) lines.push(`skipped root ${s.file}: ${s.reason}`);
  lines.push('', 'files:');
  lines.push(
    ...table(
      ['file', 'pair', 'kind', 'state', 'commits', 'size', 'used', 'rows', 'tombstones'],
      r.files.map((f) => [
        f.file,
        f.pairId === null ? '-' : String(f.pairId),
        f.kind,
        f.state,
        commits(f.firstCommitTs, f.lastCommitTs),
        bytes(f.sizeBytes),
        bytes(f.usedBytes),
        num(f.rows),
        num(f.tombstones),
      ]),
      new Set([1, 5, 6, 7, 8]),
    ),
  );
  if (r.pairs.length > 0) {
    lines.push('', 'pairs:');
    lines.push(
      ...table(
        ['pair', 'state', 'rows', 'tombstones', 'live', 'data', 'delta'],
        r.pairs.map((p) => [
          String(p.pairId),
          p.state,
          num(p.rows),
          num(p.tombstones),
          percent(p.liveFraction),
          bytes(p.dataBytes),
          bytes(p.deltaBytes),
        ]),
        new Set([0, 2, 3, 4, 5, 6]),
      ),
    );
  }
  const t = r.totals;
  lines.push(
    '',
    `totals: data ${bytes(t.dataBytes)}, delta ${bytes(t.deltaBytes)}, WAL in use ${bytes(t.walBytes)}, free WAL ${bytes(t.freeWalBytes)}, roots ${bytes(t.rootBytes)}`,
    `        ${num(t.rows)} row versions in pairs holding rows, ${num(t.tombstones)} tombstoned, ${percent(t.liveFraction)} live`,
  );
  return lines;
}

export function runInspect(dir: string, options: { json?: boolean }, io: Io): number {
  const report = inspect(existingDatabase(dir));
  if (options.json === true) io.out(JSON.stringify(report, null, 2));
  else for (const line of inspectText(report)) io.out(line);
  return 0;
}
