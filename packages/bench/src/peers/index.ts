/**
 * The peers of the side-by-side benchmark, in the order the report lists
 * them. Every factory here must pass checkPeer at every one of its settings
 * (test/peers.test.ts), so a fast but broken adapter cannot win.
 */
import { lmdbFactory } from './lmdb.js';
import { mapJsonFactory } from './map_json.js';
import type { PeerFactory } from './peer.js';
import { redisFactory } from './redis.js';
import { sqliteFactory } from './sqlite.js';
import { tidemarkFactory } from './tidemark.js';

export const PEERS: readonly PeerFactory[] = [
  tidemarkFactory,
  sqliteFactory,
  lmdbFactory,
  redisFactory,
  mapJsonFactory,
];

export { checkPeer, type CheckOptions, type CheckReport } from './check.js';
export type { Account, Peer, PeerFactory } from './peer.js';
