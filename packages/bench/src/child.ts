/**
 * Runs one of the bench's child scripts in a fresh Node process and reads
 * the JSON line it prints last. A reopen is measured this way, as a restart
 * is: a fresh heap, nothing cached in JS, no memory grown by what ran
 * before in the harness (recover_child.ts, workloads/recovery_child.ts).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD_TIMEOUT_MS = 600_000;

/**
 * The arguments that start `script` (a path under src/, without its
 * extension). Built, every caller is inside a bundle in dist/, where the
 * script's own bundle sits at the same path; from source, the .ts runs
 * through tsx, found from the caller's module (`from`: its import.meta.url,
 * `up` folders below src/).
 */
export function childArgs(script: string, from: string, up: number): string[] {
  if (from.endsWith('.ts'))
    return [
      '--conditions=source',
      '--import',
      'tsx',
      fileURLToPath(new URL(`${'../'.repeat(up) || './'}${script}.ts`, from)),
    ];
  return [fileURLToPath(new URL(`./${script}.js`, from))];
}

/** Runs `script` with `request` as its JSON argument; resolves with its last line parsed, rejects with its last error line. */
export function runChild<Request, Result>(
  script: string,
  from: string,
  up: number,
  request: Request,
  what: string,
): Promise<Result> {
  return new Promise((resolveResult, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', ...childArgs(script, from, up), JSON.stringify(request)],
      { maxBuffer: 1024 * 1024, timeout: CHILD_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`${what} failed: ${(stderr.trim().split('\n').pop() ?? '') || error.message}`));
          return;
        }
        try {
          resolveResult(JSON.parse(stdout.trim().split('\n').pop()!) as Result);
        } catch {
          reject(new Error(`${what} printed no result: ${stdout.slice(-200)}`));
        }
      },
    );
  });
}
