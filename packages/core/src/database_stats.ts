/** What db.stats() returns: the engine's counters, each table's memory, and the log's figures. */
import type { DurabilityStats, RecoveryReport } from './log/durable_log.js';
import type { CleanerStats } from './table/cleaner.js';
import type { Engine } from './txn/engine.js';

export interface TableStats {
  name: string;
  rows: number;
  /** Bytes of every row version in the arena, header included. */
  bytesInUse: number;
  /** Bytes of versions no snapshot can reach any more (the segment cleaner reclaims them). */
  deadBytes: number;
  /** Bytes of versions some snapshot can still reach: bytesInUse - deadBytes. */
  liveBytes: number;
  /** Bytes reserved for the arena's segments (freed segments not counted). */
  reservedBytes: number;
  /** Bytes of the primary index's slots. */
  indexBytes: number;
  /** Each secondary index (one being built included): its entries, one per version some snapshot can reach. */
  indexes: SecondaryIndexStats[];
}

export interface SecondaryIndexStats {
  name: string;
  kind: 'hash' | 'ordered';
  entries: number;
  /** Being built by addIndex: reads do not use it yet. */
  building: boolean;
}

export interface DatabaseStats {
  commits: number;
  aborts: number;
  conflicts: number;
  /** The newest commitTs. */
  commitTs: number;
  openTransactions: number;
  tables: TableStats[];
  /** What the segment cleaner did. */
  cleaner: CleanerStats;
  /** The log, checkpoints and merges, as the workers last published them; null for an in-memory database. */
  durability: DurabilityStats | null;
  /** What the last open recovered and how long it took; null for an in-memory database. */
  recovery: RecoveryReport | null;
}

export function statsOf(
  engine: Engine,
  cleaner: CleanerStats,
  durability: DurabilityStats | null,
  recovery: RecoveryReport | null,
): DatabaseStats {
  return {
    ...engine.counters,
    commitTs: engine.clock.now,
    openTransactions: engine.snapshots.active,
    tables: engine.tables
      .filter((t) => !t.dropped)
      .map((t) => ({
        name: t.name,
        rows: t.liveRows,
        bytesInUse: t.arena.bytesInUse,
        deadBytes: t.arena.deadBytes,
        liveBytes: t.arena.bytesInUse - t.arena.deadBytes,
        reservedBytes: t.arena.reservedBytes,
        indexBytes: t.primary.bytes,
        indexes: t.secondary.map((ix) => ({
          name: ix.def.name,
          kind: ix.def.kind,
          entries: ix.hash?.size ?? ix.ordered!.size,
          building: ix.building,
        })),
      })),
    cleaner,
    durability,
    recovery,
  };
}
