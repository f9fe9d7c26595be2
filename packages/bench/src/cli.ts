/**
 * `pnpm bench [--full] | [workload ...] | --compare OLD NEW`: parses the
 * command line and hands it to the runner (or compares two results files).
 * Exit status 2 for a usage mistake, 1 for a failure; a missed target or a
 * slower figure is not a failure.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { workloads } from './registry.js';
import { compareRuns, formatRunComparison } from './report/compare_runs.js';
import { readResults, ResultsFileError } from './report/results.js';
import { PEERS_NAME, runBench, UsageError, type RunOptions } from './runner.js';

function usage(): string {
  const names = [
    `  ${PEERS_NAME.padEnd(12)}the stores side by side (Tidemark, SQLite, LMDB, Redis, a Map with JSON) and the machine's limits`,
    ...workloads.map((w) => `  ${w.name.padEnd(12)}${w.description}`),
  ];
  return [
    'usage: pnpm bench [--full] [options]      everything: the peers side by side, then every workload',
    '       pnpm bench workload ... [options]  the named workloads, at full size (--quick for the quick size)',
    '       pnpm bench --compare OLD NEW       what got faster or slower between two results.json files',
    '',
    'A run prints progress and tables, and writes bench-results/<YYYY-MM-DD>/ (results.json,',
    'report.md, charts/*.svg). With no name it runs at the quick size (under two minutes);',
    '--full runs everything at full size; "all" names every Tidemark workload.',
    '',
    'workloads:',
    ...names,
    '',
    'options:',
    '  --full        with no name: everything at full size',
    '  --quick       with names: the quick size instead of full',
    '  --compare     read two results.json files (old, then new) and print what changed',
    "  --rows N      rows to build, insert or read from (overrides each workload's default)",
    "  --ops N       updates or gets per measured loop (overrides each workload's default)",
    '  --seconds S   stop each measured loop after S seconds, even if ops remain (durable has a default)',
    '  --out DIR     folder for results.json, report.md and charts (default bench-results/<YYYY-MM-DD>)',
    '  --dir DIR     existing folder for the temporary databases of workloads that write (default the OS temp folder)',
    '  --seed N      seed of the generated rows (default fixed)',
    '  --help        this text',
    '',
    'Run node with --expose-gc (pnpm bench does) so memory is measured after forced GC.',
  ].join('\n');
}

/** A number flag; `1_000_000` and `1,000,000` are accepted too. */
function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/[_,]/g, ''));
  if (value.trim() === '' || Number.isNaN(n)) throw new UsageError(`${flag} must be a number, not "${value}"`);
  return n;
}

type Command = RunOptions | 'help' | { compare: [string, string] };

function parse(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rows: { type: 'string' },
      ops: { type: 'string' },
      seconds: { type: 'string' },
      out: { type: 'string' },
      dir: { type: 'string' },
      seed: { type: 'string' },
      full: { type: 'boolean' },
      quick: { type: 'boolean' },
      compare: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (values.compare === true) {
    if (positionals.length !== 2)
      throw new UsageError(`--compare takes two results.json files, old then new (got ${positionals.length})`);
    return { compare: [positionals[0]!, positionals[1]!] };
  }
  const names = positionals.flatMap((name) => (name === 'all' ? workloads.map((w) => w.name) : [name]));
  const options: RunOptions = { names, args: argv };
  if (values.full === true) options.full = true;
  if (values.quick === true) options.quick = true;
  const rows = numberFlag(values.rows, '--rows');
  const ops = numberFlag(values.ops, '--ops');
  const seconds = numberFlag(values.seconds, '--seconds');
  const seed = numberFlag(values.seed, '--seed');
  if (rows !== undefined) options.rows = rows;
  if (ops !== undefined) options.ops = ops;
  if (seconds !== undefined) options.seconds = seconds;
  if (seed !== undefined) options.seed = seed;
  if (values.out !== undefined) options.outDir = values.out;
  if (values.dir !== undefined) options.dir = values.dir;
  return options;
}

async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parse(argv);
    if (command === 'help') {
      console.log(usage());
      return 0;
    }
    if ('compare' in command) {
      const [oldPath, newPath] = command.compare;
      console.log(
        formatRunComparison(
          compareRuns(readResults(resolve(oldPath)), readResults(resolve(newPath))),
          oldPath,
          newPath,
        ),
      );
      return 0;
    }
    await runBench(command, '--');
    return 0;
  } catch (error) {
    if (error instanceof ResultsFileError) {
      console.error(`bench: ${error.message}`);
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    const isUsage = error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
    if (!isUsage) throw error;
    console.error(`bench: ${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
