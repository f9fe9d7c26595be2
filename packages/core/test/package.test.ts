/**
 * @tidemark/core as a user gets it from npm (long tier only: TIDEMARK_LONG=1).
 *
 * The package is packed with `pnpm pack`, so publishConfig applies, from the
 * build made before the tests (`pnpm test` builds; every build emits core's
 * declarations). Its prepack, which builds for a publish, is skipped here:
 * a build removes every package's dist, which the test files running beside
 * this one load their workers from. The tarball is installed with
 * npm into a temporary app outside the workspace, whose dependencies (and
 * @types/node, at the workspace's version) npm fetches from the registry. In
 * that app:
 * - the installed manifest and files are what a user should get: a license,
 *   engines, declarations, the worker bundles, a README and LICENSE; no
 *   `source` condition, no `./internal`, no sources;
 * - a strict TypeScript file using the public API (open a directory, write,
 *   close, reopen, read, a typed error) type-checks with the workspace's tsc,
 *   is compiled, and runs;
 * - the package README's example is the root README's first, type-checks in
 *   the same program, and prints what its comments say;
 * - `npx tidemark --help` exits 0 and prints the usage.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const coreDir = join(root, 'packages/core');
const NAME = 'the packed @tidemark/core installs with npm, type-checks and runs in an app outside the workspace';

if (process.env.TIDEMARK_LONG === '1') {
  test(NAME, async () => {
    const app = mkdtempSync(join(tmpdir(), 'tidemark-package-'));
    try {
      await packageWorksFromTarball(app);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
} else {
  console.log('  skipped: package.test packs and installs @tidemark/core in the long tier only (TIDEMARK_LONG=1)');
  test.skip(NAME, () => {});
}

async function packageWorksFromTarball(app: string): Promise<void> {
  const tarball = await pack(join(app, 'pack'));
  const typesNode = JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8'))
    .version as string;
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'tidemark-package-app', private: true, type: 'module' }, null, 2),
  );
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, `@types/node@${typesNode}`],
    app,
    300_000,
  );

  checkInstalledPackage(join(app, 'node_modules/@tidemark/core'));
  mkdirSync(join(app, 'src'));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(STRICT_TSCONFIG, null, 2));
  writeFileSync(join(app, 'src/main.ts'), APP_SOURCE);
  const readmeExample = firstTsBlock(readFileSync(join(app, 'node_modules/@tidemark/core/README.md'), 'utf8'));
  assert.is(
    readmeExample,
    firstTsBlock(readFileSync(join(root, 'README.md'), 'utf8')),
    "the package README's example is the root README's first",
  );
  writeFileSync(join(app, 'src/readme.ts'), readmeExample);

  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app, 120_000);
  const main = await run(process.execPath, ['out/main.js'], app, 60_000);
  assert.equal(main.stdout.trim().split('\n'), [
    'duplicate: TM_DUPLICATE_KEY',
    'rows after reopen: 2',
    'note 1: {"id":1,"text":"hello","stars":"3"}',
    'starred: [2]',
    'backup holds 2 rows',
    'feed from 0: 3 commits',
  ]);

  // The README's example makes its directory under os.tmpdir(): here, the app's folder.
  const readme = await run(process.execPath, ['out/readme.js'], app, 60_000, { TMPDIR: app });
  const expected = [...readmeExample.matchAll(/console\.log\(.*\);\s*\/\/ (.*)$/gm)].map((m) => m[1]!);
  const printed = readme.stdout.trim().split('\n');
  assert.is(printed.length, expected.length, `printed: ${readme.stdout}`);
  printed.forEach((line, i) => assert.ok(line.endsWith(expected[i]!), `"${line}" should end with "${expected[i]}"`));

  // npm linked the bin; --yes=false keeps npx from fetching a package of that name instead.
  assert.ok(existsSync(join(app, 'node_modules/.bin/tidemark')), 'npm linked the tidemark bin');
  const help = await run('npx', ['--yes=false', 'tidemark', '--help'], app, 60_000);
  assert.match(help.stdout, /^Usage: tidemark/m);
  assert.match(help.stdout, /verify \[options\] <dir>/);
}

/** Packs the built package into `into` and returns the tarball's path. */
async function pack(into: string): Promise<string> {
  for (const built of ['dist/index.js', 'dist/cli.js', 'dist/types/index.d.ts', 'dist/workers/log_writer.js']) {
    assert.ok(
      existsSync(join(coreDir, built)),
      `packages/core/${built} is missing: run \`pnpm run build\` before this test`,
    );
  }
  mkdirSync(into);
  // Under `pnpm test`, pnpm names itself in npm_execpath (CI's pnpm may not be on PATH):
  // its script, run with node, or a standalone pnpm executable.
  const self = process.env.npm_execpath ?? '';
  const [command, args]: [string, string[]] = !/pnpm/.test(self)
    ? ['pnpm', []]
    : /\.[cm]?js$/.test(self)
      ? [process.execPath, [self]]
      : [self, []];
  await run(command, [...args, 'pack', '--config.ignore-scripts=true', '--pack-destination', into], coreDir, 180_000);
  const tarballs = readdirSync(into).filter((f) => f.endsWith('.tgz'));
  assert.is(tarballs.length, 1, `tarballs: ${tarballs.join(', ')}`);
  return join(into, tarballs[0]!);
}

/** What the installed package holds, and what its manifest promises. */
function checkInstalledPackage(dir: string): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  assert.is(manifest.license, 'MIT');
  assert.is(manifest.engines?.node, '>=20.15');
  assert.type(manifest.description, 'string');
  assert.ok(Array.isArray(manifest.keywords) && manifest.keywords.length > 0, 'keywords');
  assert.equal(manifest.bin, { tidemark: 'dist/cli.js' });
  assert.equal(Object.keys(manifest.exports).sort(), ['.', './package.json', './prometheus']);
  assert.not.match(JSON.stringify(manifest.exports), /source|src\//);
  for (const file of [
    'LICENSE',
    'README.md',
    'dist/index.js',
    'dist/prometheus.js',
    'dist/cli.js',
    'dist/types/index.d.ts',
    'dist/types/prometheus.d.ts',
  ]) {
    assert.ok(existsSync(join(dir, file)), `${file} is in the package`);
  }
  const workers = readdirSync(join(dir, 'dist/workers'))
    .filter((f) => f.endsWith('.js'))
    .sort();
  assert.equal(workers, [
    'backup.js',
    'feed.js',
    'index_build.js',
    'log_writer.js',
    'merge.js',
    'recovery.js',
    'streamer.js',
  ]);
  // The worker bundles carry the engine: nothing in them asks for the package by name.
  for (const worker of workers)
    assert.not.match(readFileSync(join(dir, 'dist/workers', worker), 'utf8'), /@tidemark\//, worker);
  for (const absent of ['src', 'dist/internal.js', 'dist/types/internal.d.ts'])
    assert.not.ok(existsSync(join(dir, absent)), `${absent} is not in the package`);
  assert.match(readFileSync(join(dir, 'dist/cli.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  assert.match(readFileSync(join(dir, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) 2026 the Tidemark authors/);
}

/** The first ```ts block of a markdown text. */
function firstTsBlock(markdown: string): string {
  const match = /```ts\n([\s\S]*?)```/.exec(markdown);
  assert.ok(match, 'a ```ts block');
  return match[1]!;
}

interface Output {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end. npm and pnpm settings that `pnpm test` passes
 * down as npm_* variables are left out: the app's npm reads its own.
 */
function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  extraEnv: Record<string, string> = {},
): Promise<Output> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: { ...env, ...extraEnv }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** As strict as a careful user's project, declarations of every dependency checked too. */
const STRICT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022'],
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    noUnusedLocals: true,
    verbatimModuleSyntax: true,
    skipLibCheck: false,
    rootDir: 'src',
    outDir: 'out',
  },
  include: ['src'],
};

/** The README's API, with its types: a directory opened, written, closed, reopened and read. */
const APP_SOURCE = `import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, isTidemarkError, ErrorCode, type Database, type Row, type TableDef } from '@tidemark/core';

const tables: TableDef[] = [
  {
    name: 'notes',
    columns: [
      { name: 'id', type: 'int32' },
      { name: 'text', type: 'string' },
      { name: 'stars', type: 'int64' },
    ],
    primaryKey: ['id'],
    indexes: [{ name: 'byStars', columns: ['stars'], kind: 'ordered' }],
  },
];

// Never called: proves the declarations are real types, not \`any\`.
export function misuse(): Promise<Database> {
  // @ts-expect-error dir is a path, not a number
  return open({ dir: 42, tables });
}

const dir = mkdtempSync(join(tmpdir(), 'tidemark-app-'));
try {
  let db: Database = await open({ dir, tables });
  await db.table('notes').insert({ id: 1, text: 'hello', stars: 3n });
  await db.transaction((tx) => {
    tx.insert('notes', { id: 2, text: 'world', stars: 5n });
  });
  try {
    await db.table('notes').insert({ id: 1, text: 'again', stars: 0n });
  } catch (error) {
    if (!isTidemarkError(error, ErrorCode.DUPLICATE_KEY)) throw error;
    console.log('duplicate: ' + error.code);
  }
  await db.close();

  db = await open({ dir, tables });
  const notes = db.table('notes');
  console.log('rows after reopen: ' + notes.size);
  const note: Row | undefined = notes.get(1);
  console.log('note 1: ' + JSON.stringify(note, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)));
  const starred: unknown[] = notes.scan({ index: 'byStars', gte: 4n }).map((row: Row) => row['id']);
  console.log('starred: ' + JSON.stringify(starred));
  // The backup and the change feed's WAL reads run on worker bundles of the installed package.
  const copy = join(dir, 'backup');
  await db.backup(copy);
  let commits = 0;
  for await (const batch of db.changes({ since: 0 })) {
    commits++;
    if (batch.commitTs >= db.stats().commitTs) break;
  }
  await db.close();
  const restored = await open({ dir: copy, readOnly: true });
  console.log('backup holds ' + restored.table('notes').size + ' rows');
  console.log('feed from 0: ' + commits + ' commits');
  await restored.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
`;

test.run();
