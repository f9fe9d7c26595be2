/**
 * Starts the bank service: `pnpm --filter @tidemark/example-bank start`
 * [-- --dir DIR --port N] [--nats URL,... --node NAME [--stream S --user U
 * --pass P]]. The database lives in DIR (default ./bank-data); with --nats
 * the service is one node of a cluster with failover (cluster.ts);
 * SIGINT or SIGTERM stops taking requests, closes the database (its last
 * commits made durable) and exits.
 */
import { open } from '@tidemark/core';
import { argsOrExit, startArgs } from './args.js';
import { TABLES } from './bank.js';
import { joinBankCluster } from './cluster.js';
import { createBankServer } from './server.js';

const args = argsOrExit(startArgs, process.argv.slice(2));
const source =
  args.cluster === null
    ? await open({ dir: args.dir, tables: TABLES })
    : await joinBankCluster({ dir: args.dir, ...args.cluster });
const { server } = createBankServer(source);
server.listen(args.port, '127.0.0.1', () =>
  console.log(
    `bank service on http://127.0.0.1:${args.port} (database ${args.dir}); ` +
      (args.cluster === null
        ? 'GET /metrics for Prometheus'
        : `node ${args.cluster.node}, GET /primary for the primary`),
  ),
);
const stop = (): void => {
  server.close(() => void source.close().then(() => process.exit(0)));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
