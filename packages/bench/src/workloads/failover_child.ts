/**
 * The primary of the `failover` workload, in a process of its own so that
 * it can be SIGKILLed: joins the cluster given in argv[2] (JSON joinCluster
 * options), prints `primary` once it writes, and keeps 16 `replicated`
 * upserts in flight until it is killed.
 */
import { joinCluster } from '@tidemark/replication';

// The parent gone (killed, timed out), this process goes too: no process is left behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
process.stdout.on('error', () => process.exit(0));
const member = await joinCluster(JSON.parse(process.argv[2]!));
while (member.role !== 'primary') await new Promise((resolve) => setTimeout(resolve, 10));
if (!member.db.tableNames().includes('kv'))
  member.db.createTable({
    name: 'kv',
    primaryKey: ['k'],
    columns: [
      { name: 'k', type: 'int32' },
      { name: 'v', type: 'string' },
    ],
  });
process.stdout.write('primary\n');
let next = 0;
const lane = async (): Promise<void> => {
  for (;;) {
    const k = next++ % 10_000;
    // Once it stops being the primary, `db` throws for a while (it joins as a replica again) and writes fail.
    await (async () => member.db.table('kv').upsert({ k, v: `v${k}` }, { durability: 'replicated' }))().catch(
      () => new Promise((resolve) => setTimeout(resolve, 10)),
    );
  }
};
await Promise.all(Array.from({ length: 16 }, lane));
