// Runs the uvu test files (packages/*/test/**/*.test.ts, examples/*/test/**/*.test.ts),
// one child process per file, as many at once as the machine has cores, and
// ends with the line CI reads: `N passed, N failed, N skipped`, counted from
// the children's own counts. Each file's output is printed whole when it ends,
// with its duration; the slowest files are listed at the end. A file whose
// process dies without a count, or runs past its time limit, counts as one
// failure. The exit code is non-zero whenever anything failed.
//
// Tiers: the quick tier by default; TIDEMARK_LONG=1 runs the soak sizes
// (README, "Tests"). Each file reads the variable itself.
//
// Usage: node --conditions=source --import tsx scripts/test.mjs [filter...]
//        TIDEMARK_TEST_JOBS=N sets how many files run at once.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const long = process.env.TIDEMARK_LONG === '1';
const filters = process.argv.slice(2);
const jobs = Math.max(1, Number(process.env.TIDEMARK_TEST_JOBS) || availableParallelism());
/** A file still running after this long is killed and counted as failed (a hang must not eat CI's limit). */
const FILE_LIMIT_MS = (long ? 40 : 10) * 60_000;
const TIMES_PATH = join(root, '.tmp', 'test-times.json');
const COUNT_PREFIX = '@@tidemark-test-count ';

function findTests(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function allTestFiles() {
  const files = [];
  for (const parent of ['packages', 'examples']) {
    for (const pkg of readdirSync(join(root, parent))) {
      const dir = join(root, parent, pkg, 'test');
      try {
        statSync(dir);
      } catch {
        continue;
      }
      findTests(dir, files);
    }
  }
  return files.map((f) => relative(root, f)).sort();
}

function readTimes() {
  try {
    return JSON.parse(readFileSync(TIMES_PATH, 'utf8'));
  } catch {
    return {};
  }
}

/** Runs one file in a child process; resolves with its counts, output and duration. */
function runFile(file) {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(new URL('./test_file.mjs', import.meta.url)), file],
    {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, FILE_LIMIT_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = output.split('\n').find((l) => l.startsWith(COUNT_PREFIX));
      const count = line ? JSON.parse(line.slice(COUNT_PREFIX.length)) : null;
      const shown = output
        .split('\n')
        .filter((l) => !l.startsWith(COUNT_PREFIX))
        .join('\n');
      const problem = timedOut
        ? `killed after ${FILE_LIMIT_MS / 60_000} min`
        : count === null
          ? `exited (${signal ?? code}) without a count`
          : null;
      resolve({ file, count, problem, code, output: shown, ms: Date.now() - started });
    });
  });
}

const chosen = allTestFiles().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
const times = readTimes();
// The slowest files first, so the last file to start is a short one.
const queue = [...chosen].sort((a, b) => (times[b] ?? 1e9) - (times[a] ?? 1e9) || a.localeCompare(b));
const results = [];
const started = Date.now();
process.stdout.write(
  `${chosen.length} test files, ${Math.min(jobs, chosen.length)} at a time, ${long ? 'long' : 'quick'} tier\n`,
);

async function worker() {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const result = await runFile(file);
    results.push(result);
    const failedHere = result.problem !== null || result.count.failed > 0 || result.code !== 0;
    process.stdout.write(
      `\n── ${file} (${(result.ms / 1000).toFixed(1)} s)${failedHere ? ' FAILED' : ''}\n${result.output.trimEnd()}\n`,
    );
    if (result.problem !== null) process.stdout.write(`  ${file}: ${result.problem}\n`);
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, chosen.length) }, worker));

let passed = 0;
let failed = 0;
let skipped = 0;
for (const r of results) {
  if (r.count !== null) {
    passed += r.count.passed;
    failed += r.count.failed;
    skipped += r.count.skipped;
  }
  if (r.problem !== null || (r.count !== null && r.count.failed === 0 && r.code !== 0)) failed++;
  times[r.file] = r.ms;
}
mkdirSync(dirname(TIMES_PATH), { recursive: true });
writeFileSync(TIMES_PATH, JSON.stringify(times, null, 1));

const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 8);
process.stdout.write(
  `\nSlowest files:\n${slowest.map((r) => `  ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${r.file}`).join('\n')}\n`,
);
process.stdout.write(`\n  Files: ${chosen.length}  Duration: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
if (chosen.length === 0 && filters.length === 0) {
  process.stdout.write('no test files found\n');
  failed++;
}
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 ? 1 : 0);
