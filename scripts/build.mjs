// One esbuild build for every package. Library entry points keep their npm
// dependencies external; every worker entry point is a bundle of its own so a
// worker thread loads one file. Every build emits @tidemark/core's declaration
// files, since that package is the one published and a TypeScript user needs
// them; `--types` also emits the other packages' (CI type-checks with them).
import { build } from 'esbuild';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const withTypes = process.argv.includes('--types');

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  packages: 'external',
};

/** Worker entry points: every file in packages/workers/src/entries, each bundled on its own. */
function workerEntries() {
  const dir = join(root, 'packages/workers/src/entries');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

const targets = [
  { pkg: 'core', entries: ['src/index.ts', 'src/internal.ts', 'src/prometheus.ts'] },
  // Before bench, whose declarations import it.
  { pkg: 'replication', entries: ['src/index.ts', 'src/local_cluster.ts', 'src/demo.ts', 'src/prometheus.ts'] },
  {
    pkg: 'bench',
    entries: [
      'src/index.ts',
      'src/cli.ts',
      'src/demo.ts',
      'src/recover_child.ts',
      'src/workloads/recovery_child.ts',
      'src/workloads/failover_child.ts',
    ],
  },
];

const tsc = join(root, 'node_modules/typescript/bin/tsc');
/**
 * Emits a package's declarations into its dist/types. A type error is printed
 * but does not fail the build when tsc still wrote every file (its exit code
 * 2): a change half made still runs, and `pnpm typecheck` (CI) is the gate.
 */
function declarations(pkg) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(root, 'packages', pkg, 'tsconfig.build.json')],
      (error, stdout, stderr) => {
        process.stderr.write(stdout + stderr);
        if (error && error.code !== 2) reject(new Error(`declarations of ${pkg} failed (tsc exit ${error.code})`));
        else resolve();
      },
    );
  });
}

const started = Date.now();
let coreTypes = null;
for (const { pkg, entries } of targets) {
  const dir = join(root, 'packages', pkg);
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  // tsc reads only sources: it runs beside the bundling that follows (most of a build's time).
  if (pkg === 'core') {
    coreTypes = declarations('core');
    coreTypes.catch(() => {}); // awaited below, after the bundles
  }
  const present = entries.map((e) => join(dir, e)).filter((e) => existsSync(e));
  await build({ ...common, entryPoints: present, outdir: join(dir, 'dist') });
}
// The tidemark bin: a bundle of its own, runnable as a script (npm links it as given in `bin`).
const cli = join(root, 'packages/core/dist/cli.js');
await build({
  ...common,
  entryPoints: { cli: join(root, 'packages/core/src/cli/main.ts') },
  outdir: join(root, 'packages/core/dist'),
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(cli, 0o755);
// The tidemark-replication bin, the same way.
const replicationCli = join(root, 'packages/replication/dist/cli.js');
await build({
  ...common,
  entryPoints: { cli: join(root, 'packages/replication/src/cli.ts') },
  outdir: join(root, 'packages/replication/dist'),
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(replicationCli, 0o755);
const workers = workerEntries();
if (workers.length > 0) {
  // A worker bundle carries everything it needs, the engine's modules included.
  // Bundled into core's dist, where `open()` finds them; sources resolve through the `source` condition.
  // piscina stays external: it starts its threads from its own files (the streamer runs a merge pool).
  // fs-native-extensions too: a native addon, loaded from its package (only the opening thread loads it).
  await build({
    ...common,
    packages: undefined,
    external: ['piscina', 'fs-native-extensions'],
    conditions: ['source'],
    entryPoints: workers,
    outdir: join(root, 'packages/core/dist/workers'),
  });
}
try {
  await coreTypes;
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
if (withTypes) {
  for (const { pkg } of targets) {
    if (pkg !== 'core')
      execFileSync(process.execPath, [tsc, '-p', join(root, 'packages', pkg, 'tsconfig.build.json')], {
        stdio: 'inherit',
      });
  }
}
console.log(
  `build: ${targets.length} packages, ${workers.length} worker bundles, declarations of ${withTypes ? 'every package' : 'core'} in ${Date.now() - started} ms`,
);
