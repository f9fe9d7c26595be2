/**
 * The README's API tour is run as written: the first ```ts block is taken
 * out, pointed at this package's source, and run; what it prints is checked
 * against the comments beside each console.log.
 */
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../../..', import.meta.url));

test('the README example runs and prints what its comments say', async () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'README has a ts example');
  const source = match![1]!.replace("'@tidemark/core'", JSON.stringify(pathToFileURL(join(root, 'packages/core/src/index.ts')).href));
  const expected = [...source.matchAll(/console\.log\(.*\);\s*\/\/ (.*)$/gm)].map((m) => m[1]!);
  const file = join(tmpdir(), `tidemark-readme-${process.pid}.mts`);
  writeFileSync(file, source);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void printed.push(args.map((a) => (typeof a === 'string' ? a : inspectLike(a))).join(' '));
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    rmSync(file, { force: true });
  }
  assert.is(printed.length, expected.length, `printed: ${JSON.stringify(printed)}`);
  printed.forEach((line, i) => assert.ok(line.endsWith(expected[i]!), `line ${i}: "${line}" should end with "${expected[i]}"`));
});

/** The comments are written the way Node's console prints a value, on one line. */
function inspectLike(value: unknown): string {
  return inspect(value, { breakLength: Infinity });
}

test.run();
