/**
 * `pnpm bench [workload ...] [--rows N] [--ops N] [--seconds S] [--out DIR] [--dir DIR]`:
 * parses the command line and hands it to the runner. Exit status 2 for a
 * usage mistake, 1 for a failure; a missed target is not a failure.
 */
import { parseArgs } from 'node:util';
import { workloads } from './registry.js';
import { runBench, UsageError, type RunOptions } from './runner.js';

function usage(): string {
  const names = workloads.map((w) => `  ${w.name.padEnd(12)}${w.description}`);
  return [
    'usage: pnpm bench [workload ...] [options]',
    '',
    'Runs each named workload at its full size, side by side with a baseline (a plain Map;',
    'for durable, the disk\'s own fdatasync rate and the in-memory rate),',
    'prints a table and writes JSON. With no name, runs every workload at a quick size;',
    '"all" runs every workload at its full size.',
    '',
    'workloads:',
    ...names,
    '',
    'options:',
    '  --rows N      rows to build, insert or read from (overrides each workload\'s default)',
    '  --ops N       updates or gets per measured loop (overrides each workload\'s default)',
    '  --seconds S   stop each measured loop after S seconds, even if ops remain (durable has a default)',
    '  --out DIR     folder for the JSON results (default bench-results/<YYYY-MM-DD>)',
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

function parse(argv: string[]): RunOptions | 'help' {
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const names = positionals.includes('all') ? workloads.map((w) => w.name) : positionals;
  const options: RunOptions = { names };
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
  let options: RunOptions | 'help';
  try {
    options = parse(argv);
    if (options === 'help') {
      console.log(usage());
      return 0;
    }
    await runBench(options, '--');
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const isUsage = error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
    if (!isUsage) throw error;
    console.error(`bench: ${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
