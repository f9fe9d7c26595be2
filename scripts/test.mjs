// Runs every uvu test file (packages/*/test/**/*.test.ts, examples/*/test/**/*.test.ts) in one process and
// ends with the line CI reads: `N passed, N failed, N skipped`, counted from
// the run itself. uvu's own summary is kept for people; the count here also
// treats a suite whose hooks threw (uvu reports it as 0 passed, no error) as
// failed, and the exit code is non-zero whenever anything failed.
//
// Usage: node --conditions=source --import tsx scripts/test.mjs [filter...]
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

function findTests(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = [];
for (const parent of ['packages', 'examples']) {
  for (const pkg of readdirSync(join(root, parent))) {
    const dir = join(root, parent, pkg, 'test');
    try { statSync(dir); } catch { continue; }
    findTests(dir, files);
  }
}
const chosen = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));

globalThis.UVU_DEFER = 1;
const uvu = await import('uvu');
globalThis.UVU_QUEUE = globalThis.UVU_QUEUE || [];
let index = 0;
for (const file of chosen) {
  globalThis.UVU_INDEX = index++;
  globalThis.UVU_QUEUE.push([relative(root, file)]);
  await import(pathToFileURL(file).href);
}

let total = 0;
let passed = 0;
let skipped = 0;
let failedSuites = 0;
const started = Date.now();
for (const group of globalThis.UVU_QUEUE) {
  const name = group.shift();
  if (name != null) process.stdout.write(`\n${name}\n`);
  for (const run of group) {
    const [errors, ran, skip, max] = await run();
    total += max;
    passed += ran;
    skipped += skip;
    if (errors !== true || ran !== max) {
      failedSuites++;
      if (errors !== true) process.stdout.write(`\n${errors}\n`);
    }
  }
}
const failed = total - passed;
process.stdout.write(`\n  Files: ${chosen.length}  Duration: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
if (failed > 0 || failedSuites > 0) process.exitCode = 1;
if (chosen.length === 0 && filters.length === 0) {
  process.stdout.write('no test files found\n');
  process.exitCode = 1;
}
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
// A leaked handle (a timer, a worker) must not keep CI waiting once the count is out.
process.exit(process.exitCode ?? 0);
