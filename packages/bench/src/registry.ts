/** Every workload, by name, in the order a run of all of them takes. */
import type { Workload } from './workload.js';
import { addIndexWorkload } from './workloads/add_index.js';
import { autocommitWorkload } from './workloads/autocommit.js';
import { backupWorkload } from './workloads/backup.js';
import { buildWorkload } from './workloads/build.js';
import { checkpointWorkload } from './workloads/checkpoint.js';
import { durableWorkload } from './workloads/durable.js';
import { durableSyncWorkload } from './workloads/durable_sync.js';
import { failoverWorkload } from './workloads/failover.js';
import { footprintWorkload } from './workloads/footprint.js';
import { feedWorkload } from './workloads/feed.js';
import { iterateWorkload } from './workloads/iterate.js';
import { readsWorkload } from './workloads/reads.js';
import { reclaimWorkload } from './workloads/reclaim.js';
import { recoveryWorkload } from './workloads/recovery.js';
import { replicationWorkload } from './workloads/replication.js';
import { schemaWorkload } from './workloads/schema.js';

export const workloads: readonly Workload[] = [
  buildWorkload,
  autocommitWorkload,
  readsWorkload,
  durableWorkload,
  durableSyncWorkload,
  footprintWorkload,
  checkpointWorkload,
  recoveryWorkload,
  reclaimWorkload,
  schemaWorkload,
  addIndexWorkload,
  iterateWorkload,
  backupWorkload,
  feedWorkload,
  replicationWorkload,
  failoverWorkload,
];

export function findWorkload(name: string): Workload | undefined {
  return workloads.find((w) => w.name === name);
}
