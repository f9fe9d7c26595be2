/**
 * One reopen of the recovery comparison, in a process of its own, so that
 * it is measured as a restart is: a fresh heap, nothing cached in JS, and
 * memory that no earlier store has grown (compare/recovery.ts starts it).
 *
 *   argv[2]: JSON { store, setting, options, dir, rows }
 *   stdout:  JSON { seconds, loopDelayP99Ms, count, lastFound, rssBytes, serverBytes }
 *
 * The time counts from just before `open` to the row count and the last
 * row read back by key; memory is the resident set's growth across it
 * (after forced GC: run with --expose-gc), plus a server's own count.
 */
import { timed } from './compare/lanes.js';
import { sampleMemory } from './measure.js';
import { PEERS } from './peers/index.js';
import type { Account, PeerOptions } from './peers/peer.js';

export interface ChildRequest {
  store: string;
  setting: string;
  options: PeerOptions;
  dir: string;
  rows: number;
}

export interface ChildResult {
  seconds: number;
  loopDelayP99Ms: number;
  count: number;
  lastFound: boolean;
  rssBytes: number;
  serverBytes: number;
}

async function main(request: ChildRequest): Promise<ChildResult> {
  const factory = PEERS.find((f) => f.name === request.store);
  if (factory === undefined) throw new Error(`no peer named ${request.store}`);
  const before = await sampleMemory();
  const peer = factory.create(request.setting, request.options);
  try {
    let count = 0;
    let last: Account | undefined;
    const t = await timed(async () => {
      await peer.open(request.dir);
      count = await peer.count();
      last = await peer.get(request.rows);
    });
    const after = await sampleMemory();
    const serverBytes = peer.serverMemoryBytes === undefined ? 0 : await peer.serverMemoryBytes();
    return {
      seconds: t.seconds,
      loopDelayP99Ms: t.loopDelayP99Ms,
      count,
      lastFound: last !== undefined,
      rssBytes: after.rssBytes - before.rssBytes,
      serverBytes,
    };
  } finally {
    await peer.close();
  }
}

const result = await main(JSON.parse(process.argv[2]!) as ChildRequest);
process.stdout.write(`${JSON.stringify(result)}\n`);
