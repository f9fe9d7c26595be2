/**
 * The README's examples are run as written: each ```ts block is taken out,
 * pointed at this package's source (and prom-client at this package's copy), and run; what it prints is checked
 * against the comments beside each console.log.
 */
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const coreRequire = createRequire(join(root, 'packages/core/package.json'));

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('the README has examples', () => {
  assert.ok(examples.length >= 2, `${examples.length} ts examples`);
});

examples.forEach((example, n) =>
  test(`README example ${n + 1} runs and prints what its comments say`, async () => {
    const source = example
      .replace("'@tidemark/core'", JSON.stringify(pathToFileURL(join(root, 'packages/core/src/index.ts')).href))
      .replace(
        "'@tidemark/core/prometheus'",
        JSON.stringify(pathToFileURL(join(root, 'packages/core/src/prometheus.ts')).href),
      )
      // The example runs from a temporary folder: prom-client as this package has it (a dev dependency).
      .replace("'prom-client'", JSON.stringify(pathToFileURL(coreRequire.resolve('prom-client')).href));
    const expected = [...source.matchAll(/console\.log\(.*\);\s*\/\/ (.*)$/gm)].map((m) => m[1]!);
    const file = join(tmpdir(), `tidemark-readme-${process.pid}-${n}.mts`);
    writeFileSync(file, source);
    const printed: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) =>
      void printed.push(args.map((a) => (typeof a === 'string' ? a : inspectLike(a))).join(' '));
    try {
      await import(pathToFileURL(file).href);
    } finally {
      console.log = log;
      rmSync(file, { force: true });
    }
    assert.is(printed.length, expected.length, `printed: ${JSON.stringify(printed)}`);
    printed.forEach((line, i) =>
      assert.ok(line.endsWith(expected[i]!), `line ${i}: "${line}" should end with "${expected[i]}"`),
    );
  }),
);

/** The comments are written the way Node's console prints a value, on one line. */
function inspectLike(value: unknown): string {
  return inspect(value, { breakLength: Infinity });
}

test.run();
