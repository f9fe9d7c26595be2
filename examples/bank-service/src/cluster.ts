/**
 * The service as one node of a cluster (`start --nats ...`): joinCluster()
 * from @tidemark/replication. The node holding the lease takes writes, with
 * `replicated` durability; the others serve reads and answer writes with
 * 503 `NOT_PRIMARY`, naming the primary as the lease last showed it. A
 * failover changes which node that is; watchPrimary() logs each change.
 */
import { type Member, joinCluster } from '@tidemark/replication';
import { TABLES } from './bank.js';

export interface ClusterArgs {
  dir: string;
  servers: string[];
  stream: string;
  node: string;
  user?: string;
  pass?: string;
}

/** Joins the cluster; the first node to start the stream creates the tables. */
export async function joinBankCluster(args: ClusterArgs): Promise<Member> {
  const member = await joinCluster({
    servers: args.servers,
    stream: args.stream,
    node: args.node,
    dir: args.dir,
    ...(args.user === undefined ? {} : { user: args.user, pass: args.pass }),
    open: { tables: TABLES },
  });
  member.watchPrimary((holder) =>
    console.log(`primary: node ${holder?.node ?? '(none)'}${holder === null ? '' : ` (epoch ${holder.epoch})`}`),
  );
  return member;
}
