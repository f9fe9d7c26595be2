/**
 * `replicationPort(db)`: the hooks a replication package drives (port.ts).
 * Low level: applications use @tidemark/replication, which wraps them.
 */
import type { Database } from '../database.js';
import type { ReplicationPort } from './port.js';

/** The database's replication hooks; NO_DIRECTORY in memory, READ_ONLY when opened read-only. */
export function replicationPort(db: Database<never> | Database): ReplicationPort {
  return (db as Database).replicationPort();
}
