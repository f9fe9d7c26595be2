/**
 * @tidemark/replication: a Tidemark database's log shipped through NATS
 * JetStream to replicas that follow it and serve reads (docs/REPLICATION.md).
 */
export { replicate, Replication, type ReplicationStats } from './primary.js';
export { openReplica, Replica, type ReplicaStats, type ReplicaState } from './replica.js';
export type { NatsOptions, ReplicaOptions, ReplicateOptions } from './options.js';
export type { ShipperState } from './shipper.js';
export type { Manifest } from './checkpoints.js';
export { joinCluster, Member, type MemberStats, type Role } from './member.js';
export type { LeaseHolder } from './lease.js';
export type { MemberOptions } from './options.js';
