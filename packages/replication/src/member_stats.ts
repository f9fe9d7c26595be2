/** What a node of joinCluster() reports: its role and the transitions it made (member.ts). */
import type { LeaseHolder } from './lease.js';

export type Role = 'primary' | 'replica' | 'closed';

export interface MemberStats {
  role: Role;
  node: string;
  /** The lease as last read: who writes, in which epoch. */
  primary: LeaseHolder | null;
  /** Times this node became the primary, and stopped being it. */
  promotions: number;
  stepDowns: number;
  /** Commits this node made as a primary that never reached the stream, discarded when it stepped down. */
  discardedTs: number;
  /** Failover time of the last promotion here: from the lease seen lapsed (or promote()) to writable, ms. */
  lastPromotionMs: number | null;
  /** The transition under way, if any (promoting, opening a term, stepping down, joining as a replica). */
  phase: string | null;
  lastError: string | null;
}
