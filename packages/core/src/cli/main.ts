/** The `tidemark` bin: run.ts over the process's arguments and streams. */
import { processIo } from './output.js';
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), processIo());
