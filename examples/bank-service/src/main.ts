/**
 * Starts the bank service: `pnpm --filter @tidemark/example-bank start`
 * [-- --dir DIR --port N]. The database lives in DIR (default ./bank-data);
 * SIGINT or SIGTERM stops taking requests, closes the database (its last
 * commits made durable) and exits.
 */
import { open } from '@tidemark/core';
import { argsOrExit, startArgs } from './args.js';
import { TABLES } from './bank.js';
import { createBankServer } from './server.js';

const args = argsOrExit(startArgs, process.argv.slice(2));
const db = await open({ dir: args.dir, tables: TABLES });
const { server } = createBankServer(db);
server.listen(args.port, '127.0.0.1', () =>
  console.log(`bank service on http://127.0.0.1:${args.port} (database ${args.dir}); GET /metrics for Prometheus`),
);
const stop = (): void => {
  server.close(() => void db.close().then(() => process.exit(0)));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
