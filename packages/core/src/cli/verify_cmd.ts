/**
 * `tidemark verify <dir> [--json]`: every check of verify.ts; exit status 0
 * exactly when open() would load the directory, 1 when not, and 1 with one
 * line when the path holds no database.
 */
import { join } from 'node:path';
import { verify, type VerifyProblem } from '../verify.js';
import { existingDatabase, num, type Io } from './output.js';

function where(p: VerifyProblem): string {
  if (p.file === null) return '(directory)';
  return p.offset === null ? p.file : `${p.file} at offset ${num(p.offset)}`;
}

/** The message without the file it begins with, which where() has printed already. */
function withoutFile(dir: string, p: VerifyProblem): string {
  if (p.file === null) return p.message;
  for (const prefix of [`${join(dir, p.file)}: `, `${p.file}: `])
    if (p.message.startsWith(prefix)) return p.message.slice(prefix.length);
  return p.message;
}

export async function runVerify(dir: string, options: { json?: boolean }, io: Io): Promise<number> {
  const report = await verify(existingDatabase(dir));
  if (options.json === true) {
    io.out(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  for (const p of report.problems) io.out(`problem: ${where(p)}: ${withoutFile(dir, p)} [${p.code}]`);
  for (const w of report.warnings) io.out(`warning: ${where(w)}: ${withoutFile(dir, w)} [${w.code}]`);
  const tables =
    report.tables === null
      ? 'not loadable'
      : report.tables.map((t) => `${t.name} ${num(t.rows)} rows`).join(', ') || 'no tables';
  const warnings =
    report.warnings.length === 0 ? '' : `, ${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}`;
  io.out(
    report.ok
      ? `ok: ${dir} (${report.files.length} files, root ${report.root ?? 'none'}; ${tables}; digest ${report.digest?.slice(0, 16) ?? '-'}${warnings})`
      : `FAILED: ${dir}: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}, ${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}`,
  );
  return report.ok ? 0 : 1;
}
