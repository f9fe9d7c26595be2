/**
 * The `tidemark` command line: parses arguments with commander and runs a
 * command. Exit status: 0 done (verify: open() would load the directory),
 * 1 a failure (verify: problems found; no database at the path; an engine
 * error; a refused input), 2 a usage mistake (an unknown command or option,
 * an option's value that is not what it takes: arguments.ts). A user's error prints `tidemark: <message> [<code>]` on
 * standard error without a stack; only a bug prints one.
 */
import { Command, CommanderError } from 'commander';
import { TidemarkError } from '../errors.js';
import { choiceOption, integerOption, UsageError } from './arguments.js';
import { runExport } from './export_cmd.js';
import { runImport, type ImportOptions } from './import_cmd.js';
import { runInspect } from './inspect_cmd.js';
import { runMaintenance } from './maintain_cmd.js';
import { CliError, type Io } from './output.js';
import { runRecover } from './recover_cmd.js';
import { cutPointOption, runBackup, runRestore } from './backup_cmd.js';
import type { CutPoint } from '../backup/wal_cut.js';
import { runSchema } from './schema_cmd.js';
import { runVerify } from './verify_cmd.js';

const VERSION = '0.1.0';

function program(io: Io, done: (status: number) => void): Command {
  const p = new Command('tidemark')
    .description(
      'Tools for Tidemark database directories: look inside, check, maintain, recover, and move rows in and out.',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run with --help for usage)');
  addReadCommands(p, io, done);
  addMaintenanceCommands(p, io, done);
  addRowCommands(p, io, done);
  return p;
}

/** The commands that read the directory: inspect and verify (files only), schema (opens it). */
function addReadCommands(p: Command, io: Io, done: (status: number) => void): void {
  p.command('inspect')
    .description(
      'show the root file, every checkpoint file and WAL segment, the live fraction of each pair, and totals (reads only; takes no lock)',
    )
    .argument('<dir>', 'database directory')
    .option('--json', 'print the report as JSON')
    .action((dir: string, o: { json?: boolean }) => done(runInspect(dir, o, io)));
  p.command('verify')
    .description(
      'check every file of a closed database; exit status 0 if open() would load it, 1 with every problem (file and offset) if not',
    )
    .argument('<dir>', 'database directory')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, o: { json?: boolean }) => done(await runVerify(dir, o, io)));
  p.command('schema')
    .description(
      "print the table definitions as JSON (all of them, or one table's), as `import --schema` takes them (opens the database)",
    )
    .argument('<dir>', 'database directory')
    .argument('[table]', 'only this table')
    .action(async (dir: string, table: string | undefined) => done(await runSchema(dir, table, io)));
}

/** The commands that work on a database's files: checkpoint, merge and recover (opening it), backup and restore (copying it). */
function addMaintenanceCommands(p: Command, io: Io, done: (status: number) => void): void {
  for (const what of ['checkpoint', 'merge'] as const) {
    p.command(what)
      .description(
        what === 'checkpoint'
          ? 'open the database, checkpoint it now, close it, and print what changed'
          : 'open the database, merge checkpoint file pairs as the policy finds them, close it, and print what changed',
      )
      .argument('<dir>', 'database directory')
      .option('--json', 'print the result as JSON')
      .action(async (dir: string, o: { json?: boolean }) => done(await runMaintenance(what, dir, o, io)));
  }
  p.command('recover')
    .description('open the database with a progress bar per phase and per pair, then print the recovery figures')
    .argument('<dir>', 'database directory')
    .option(
      '--workers <n>',
      'recovery workers, 0 to 64 (default: one per pair, at most one per core; 0: the main thread)',
      integerOption('--workers', 0, 64),
    )
    .option('--json', 'print the figures as JSON')
    .action(async (dir: string, o: { workers?: number; json?: boolean }) => done(await runRecover(dir, o, io)));
  p.command('backup')
    .description(
      'copy a database consistently, as of one commit, while another process may be writing it (takes no lock)',
    )
    .argument('<dir>', 'database directory')
    .argument('<dest>', 'a new or empty directory for the copy')
    .action(async (dir: string, dest: string) => done(await runBackup(dir, dest, io)));
  p.command('restore')
    .description('make a database directory from a backup, replaying its log only up to --to')
    .argument('<backup>', 'a backup (or any database directory no process is writing)')
    .argument('<dest>', 'a new or empty directory')
    .option('--to <commitTs|time>', 'the last commit to keep, or an ISO 8601 time (default: all)', cutPointOption)
    .option('--archive <dir>', "a WAL archive (options.archiveDir) to continue the backup's log from")
    .action(async (backup: string, dest: string, o: { to?: CutPoint; archive?: string }) =>
      done(await runRestore(backup, dest, o, io)),
    );
}

/** The commands that move rows out of a table and into one: export and import. */
function addRowCommands(p: Command, io: Io, done: (status: number) => void): void {
  p.command('export')
    .description(
      'write every row of a table as NDJSON, one JSON object a line (int64 beyond 2^53 as strings, bytes as base64)',
    )
    .argument('<dir>', 'database directory')
    .argument('<table>', 'table name')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (dir: string, table: string, o: { out?: string }) => done(await runExport(dir, table, o, io)));
  p.command('import')
    .description('read rows from NDJSON or CSV (header row) into a table, in transactions of --batch rows')
    .argument('<dir>', 'database directory')
    .argument('<table>', 'table name')
    .argument('<file>', 'NDJSON or CSV file')
    .option(
      '--format <format>',
      'ndjson or csv (default: csv for a .csv file, else ndjson)',
      choiceOption('--format', ['ndjson', 'csv'] as const),
    )
    .option(
      '--schema <file>',
      'a JSON table definition to create the table with when it does not exist (needed for a new database)',
    )
    .option('--upsert', 'replace rows whose key exists instead of failing')
    .option(
      '--batch <n>',
      'rows per transaction, 1 to 1,000,000 (default 10,000)',
      integerOption('--batch', 1, 1_000_000),
    )
    .action(async (dir: string, table: string, file: string, o: ImportOptions) =>
      done(await runImport(dir, table, file, o, io)),
    );
}

/** Runs the command line `argv` (without node and the script); resolves with the exit status. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let status = 0;
  try {
    await program(io, (s) => void (status = s)).parseAsync([...argv], { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; a usage mistake (already printed) with 1: ours is 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof TidemarkError || error instanceof CliError) {
      io.err(`tidemark: ${error.message} [${error.code}]`);
      return error instanceof UsageError ? 2 : 1;
    }
    io.err(`tidemark: internal error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
