import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dropCaches, probeSequentialRead } from '../src/limits/seq_read.js';

/** Resident bytes of `path` in the page cache, by util-linux fincore; null where it is missing. */
function resident(path: string): number | null {
  try {
    return Number(
      execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' }).trim(),
    );
  } catch {
    return null;
  }
}

test('dropCaches takes directories whole, the files it names are read cold, and an empty directory answers as one with files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-seq-read-'));
  try {
    mkdirSync(join(dir, 'nested'));
    const files = [join(dir, 'a.bin'), join(dir, 'nested', 'b.bin')];
    const bytes = Buffer.alloc(1 << 20, 7);
    for (const file of files) writeFileSync(file, bytes);
    assert.is(probeSequentialRead(files.map((path) => ({ path, bytes: bytes.length }))).bytes, 2 * bytes.length);
    const drop = dropCaches([dir, join(dir, 'missing')]);
    assert.ok(drop === 'system' || drop === 'files' || drop === null);
    if (drop !== null) {
      for (const file of files) {
        const res = resident(file);
        if (res !== null) assert.is(res, 0, `${file} still cached`);
      }
    }
    for (const file of files) assert.equal(readFileSync(file), bytes, 'the contents are untouched');
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    assert.is(dropCaches([empty]), drop, 'with nothing to drop it still says whether files can be dropped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
