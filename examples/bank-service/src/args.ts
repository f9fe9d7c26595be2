/**
 * The command lines of `start` (main.ts) and `load` (load.ts), parsed into
 * checked values. A leading `--` is dropped: pnpm 10 passes the `--` of
 * `pnpm --filter @tidemark/example-bank start -- --dir d` through to the
 * script, where parseArgs would take every argument after it for a
 * positional one and refuse it.
 */
import { parseArgs } from 'node:util';

export interface StartArgs {
  dir: string;
  port: number;
  /** A cluster node (cluster.ts) when `--nats` names the servers. */
  cluster: { servers: string[]; stream: string; node: string; user?: string; pass?: string } | null;
}

export interface LoadArgs {
  url: string;
  seconds: number;
  concurrency: number;
  accounts: number;
}

/** An argument that is not what the option takes; main.ts and load.ts print it and exit 2. */
export class UsageError extends Error {}

function withoutSeparator(argv: readonly string[]): string[] {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}

function parse<T extends Record<string, { type: 'string'; default: string }>>(
  argv: readonly string[],
  options: T,
): Record<keyof T, string> {
  try {
    return parseArgs({ args: withoutSeparator(argv), options, strict: true, allowPositionals: false })
      .values as unknown as Record<keyof T, string>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${text}"`);
  return value;
}

export function startArgs(argv: readonly string[]): StartArgs {
  const values = parse(argv, {
    dir: { type: 'string', default: 'bank-data' },
    port: { type: 'string', default: '8080' },
    nats: { type: 'string', default: '' },
    stream: { type: 'string', default: 'bank' },
    node: { type: 'string', default: '' },
    user: { type: 'string', default: '' },
    pass: { type: 'string', default: '' },
  });
  const port = integer('port', values.port, 0, 65_535);
  if (values.nats === '') return { dir: values.dir, port, cluster: null };
  if (values.node === '') throw new UsageError("--nats needs --node, this node's name in the cluster");
  const cluster = { servers: values.nats.split(','), stream: values.stream, node: values.node };
  const credentials = values.user === '' ? {} : { user: values.user, pass: values.pass };
  return { dir: values.dir, port, cluster: { ...cluster, ...credentials } };
}

export function loadArgs(argv: readonly string[]): LoadArgs {
  const values = parse(argv, {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '64' },
    accounts: { type: 'string', default: '1000' },
  });
  return {
    url: values.url,
    seconds: integer('seconds', values.seconds, 1, 86_400),
    concurrency: integer('concurrency', values.concurrency, 1, 10_000),
    accounts: integer('accounts', values.accounts, 2, 1_000_000),
  };
}

/** Parses with `parser`, or prints the mistake and exits with status 2. */
export function argsOrExit<T>(parser: (argv: readonly string[]) => T, argv: readonly string[]): T {
  try {
    return parser(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}`);
    process.exit(2);
  }
}
