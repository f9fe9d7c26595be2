/**
 * Typed tables are checked by the compiler, not at run time: this file runs
 * `tsc -p packages/core/test/types` (strict, noEmit) over the type tests in
 * test/types/typed_tables.ts and asserts it passes. A passing run proves both
 * kinds of assertion there: the lines that must compile do, and every line
 * under `// @ts-expect-error` is an error (else tsc fails with TS2578,
 * "Unused '@ts-expect-error' directive", which the last test shows).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const typesDir = join(root, 'packages/core/test/types');
/** The type tests hold at least this many expected errors (so that losing them shows). */
const MIN_EXPECTED_ERRORS = 25;
const TSC_LIMIT_MS = 120_000;

interface TscRun {
  code: number;
  output: string;
}

function runTsc(project: string): Promise<TscRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsc, '-p', project, '--pretty', 'false'],
      { cwd: root, timeout: TSC_LIMIT_MS },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: stdout + stderr });
      },
    );
  });
}

test('the type tests hold their expected errors', () => {
  const source = readFileSync(join(typesDir, 'typed_tables.ts'), 'utf8');
  const directives = source.split('\n').filter((line) => line.trim().startsWith('// @ts-expect-error'));
  assert.ok(directives.length >= MIN_EXPECTED_ERRORS, `${directives.length} @ts-expect-error lines`);
  const config = JSON.parse(readFileSync(join(typesDir, 'tsconfig.json'), 'utf8'));
  assert.ok(config.files.includes('typed_tables.ts'), 'the tsconfig compiles typed_tables.ts');
});

test('tsc --noEmit under strict passes over the type tests', async () => {
  const run = await runTsc(typesDir);
  assert.is(run.code, 0, `tsc failed:\n${run.output}`);
});

test('tsc fails on an @ts-expect-error line that is not an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-types-'));
  try {
    writeFileSync(
      join(dir, 'unused.mts'),
      [
        `import { tableDef } from ${JSON.stringify(join(root, 'packages/core/src/index.js'))};`,
        "const t = tableDef({ name: 't', columns: [{ name: 'id', type: 'int32' }], primaryKey: ['id'] });",
        '// @ts-expect-error a valid name: the directive is unused',
        "export const name: 't' = t.name;",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(typesDir, 'tsconfig.json'),
        compilerOptions: { typeRoots: [join(root, 'node_modules/@types')] },
        files: [join(dir, 'unused.mts')],
      }),
    );
    const run = await runTsc(dir);
    assert.is.not(run.code, 0, 'tsc passed');
    assert.match(run.output, /unused\.mts\(3,1\): error TS2578: Unused '@ts-expect-error' directive/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
