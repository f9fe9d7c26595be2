/**
 * Starts the bank service: `pnpm --filter @tidemark/example-bank start`
 * [-- --dir DIR --port N]. The database lives in DIR (default ./bank-data);
 * SIGINT or SIGTERM stops taking requests, closes the database (its last
 * commits made durable) and exits.
 */
import { open } from '@tidemark/core';
import { parseArgs } from 'node:util';
import { TABLES } from './bank.js';
import { createBankServer } from './server.js';

const { values } = parseArgs({ options: { dir: { type: 'string', default: 'bank-data' }, port: { type: 'string', default: '8080' } } });
const db = await open({ dir: values.dir!, tables: TABLES });
const { server } = createBankServer(db);
server.listen(Number(values.port), '127.0.0.1', () => console.log(`bank service on http://127.0.0.1:${values.port} (database ${values.dir}); GET /metrics for Prometheus`));
const stop = (): void => {
  server.close(() => void db.close().then(() => process.exit(0)));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
