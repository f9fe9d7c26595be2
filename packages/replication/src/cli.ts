/**
 * The `tidemark-replication` bin: the cluster's lease from the command line.
 *
 *   tidemark-replication status  --servers <urls> --stream <name> [--user u --pass p | --token t]
 *   tidemark-replication promote --servers <urls> --stream <name> --node <name> [--timeout-ms 30000] [...]
 *
 * `promote` asks the node (a replica of joinCluster) to promote itself and
 * waits until the lease names it. Exit status: 0 done, 1 failed (the message
 * ends with its code), 2 a usage mistake.
 */
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { ErrorCode, isTidemarkError, TidemarkError } from '@tidemark/core';
import { Lease } from './lease.js';
import { connectOptions, fillReplica } from './options.js';
import { PromoteRequests } from './promote_request.js';

const USAGE = `usage: tidemark-replication status|promote --servers <url,...> --stream <name> [--node <name>] [--user u --pass p | --token t] [--timeout-ms n]`;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`tidemark-replication: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { command, values } = parsed;
  const nats = fillReplica({
    servers: values.servers.split(','),
    stream: values.stream,
    dir: '-',
    ...(values.user === undefined ? {} : { user: values.user, pass: values.pass }),
    ...(values.token === undefined ? {} : { token: values.token }),
  });
  const nc = await connect(connectOptions(nats, 'tidemark-replication-cli'));
  try {
    const lease = await Lease.open(nc, nats.stream, '', 1);
    if (command === 'status') {
      const { holder } = await lease.read();
      process.stdout.write(`${JSON.stringify({ stream: nats.stream, primary: holder })}\n`);
      return 0;
    }
    const node = values.node!;
    const before = (await lease.read()).holder;
    if (before?.node === node && before.released !== true) {
      process.stdout.write(`node ${node} is the primary already (epoch ${before.epoch})\n`);
      return 0;
    }
    await (await PromoteRequests.open(nc, nats.stream)).ask(node);
    const deadline = Date.now() + Number(values['timeout-ms']);
    for (;;) {
      const { holder } = await lease.read();
      if (holder?.node === node && holder.epoch > (before?.epoch ?? 0)) {
        process.stdout.write(`node ${node} is the primary (epoch ${holder.epoch})\n`);
        return 0;
      }
      if (Date.now() > deadline)
        throw new TidemarkError(
          ErrorCode.REPLICATION_UNAVAILABLE,
          `node ${node} did not take the lease within ${values['timeout-ms']} ms (is it running, and a replica?)`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await nc.close();
  }
}

function parse(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      servers: { type: 'string' },
      stream: { type: 'string' },
      node: { type: 'string' },
      user: { type: 'string' },
      pass: { type: 'string' },
      token: { type: 'string' },
      'timeout-ms': { type: 'string', default: '30000' },
    },
  });
  const command = positionals[0];
  if (positionals.length !== 1 || (command !== 'status' && command !== 'promote'))
    throw new Error('a command, status or promote, is needed');
  if (values.servers === undefined || values.stream === undefined) throw new Error('--servers and --stream are needed');
  if (command === 'promote' && values.node === undefined) throw new Error('promote needs --node');
  if (!/^\d+$/.test(values['timeout-ms']!)) throw new Error('--timeout-ms must be an integer');
  return { command, values: values as typeof values & { servers: string; stream: string; 'timeout-ms': string } };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = isTidemarkError(error) ? ` [${(error as TidemarkError).code}]` : '';
    process.stderr.write(`tidemark-replication: ${(error as Error).message}${code}\n`);
    process.exitCode = 1;
  },
);
