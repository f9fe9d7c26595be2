/** `tidemark verify <dir> [--json]`: every check of verify.ts; exit status 0 when open() would load the directory, 1 when not. */
import { verify, type VerifyProblem } from '../verify.js';
import { num, type Io } from './output.js';

function where(p: VerifyProblem): string {
  if (p.file === null) return '(directory)';
  return p.offset === null ? p.file : `${p.file} at offset ${num(p.offset)}`;
}

export async function runVerify(dir: string, options: { json?: boolean }, io: Io): Promise<number> {
  const report = await verify(dir);
  if (options.json === true) {
    io.out(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  for (const p of report.problems) io.out(`problem: ${where(p)}: ${p.message} [${p.code}]`);
  for (const w of report.warnings) io.out(`warning: ${where(w)}: ${w.message} [${w.code}]`);
  const tables = report.tables === null ? 'not loadable' : report.tables.map((t) => `${t.name} ${num(t.rows)} rows`).join(', ') || 'no tables';
  io.out(
    report.ok
      ? `ok: ${dir} (${report.files.length} files, root ${report.root ?? 'none'}; ${tables}; digest ${report.digest?.slice(0, 16) ?? '-'})`
      : `FAILED: ${dir}: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}, ${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}`,
  );
  return report.ok ? 0 : 1;
}
