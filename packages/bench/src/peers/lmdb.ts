/**
 * lmdb-js as a peer: one LMDB environment in `<dir>/lmdb`, key the row id
 * (a number), value the row object (lmdb-js's default msgpack encoding).
 * lmdb-js opens with overlappingSync (its default on Linux): a commit is
 * made visible first and flushed (fdatasync'd) right after, off the writer lock.
 *
 * Settings:
 * - `put, await committed`, the fastest honest setting: async `db.put`,
 *   batched by lmdb-js into one transaction per event turn on its writer
 *   thread; resolves once that transaction is committed and visible. The
 *   database stays consistent after a power loss, but the last commits may
 *   be lost until their flush completes (milliseconds later).
 * - `put, await flushed`: the same batched `db.put`, then `await db.flushed`,
 *   which resolves once every earlier commit is fdatasync'd: durable.
 * - `transactionSync`: each put is `db.transactionSync(() => db.putSync())`
 *   on the main thread; it commits and fdatasyncs before returning (strace
 *   shows one fdatasync per call, on the calling thread): durable, with no
 *   grouping of concurrent puts, and it blocks the event loop meanwhile.
 */
import type { RootDatabase } from 'lmdb';
import { join } from 'node:path';
import { notOpen, toAccount, pickSetting, type Account, type Peer, type PeerFactory } from './peer.js';

const NAME = 'lmdb';
const SETTINGS = ['put, await committed', 'put, await flushed', 'transactionSync'] as const;
type Setting = (typeof SETTINGS)[number];
const SUBDIR = 'lmdb';

const GUARANTEES: Record<Setting, string> = {
  'put, await committed':
    'batched async put, resolves when committed and visible; fdatasync follows, so a power loss may lose the last commits',
  'put, await flushed': "batched async put, resolves after the commit is fdatasync'd",
  transactionSync: "one synchronous transaction per put, committed and fdatasync'd before it returns",
};

type Db = RootDatabase<Account, number>;

class LmdbPeer implements Peer {
  readonly name = NAME;
  readonly durable: boolean;
  readonly snapshotOnly: boolean;
  readonly guarantee: string;
  #db: Db | null = null;

  constructor(readonly setting: Setting) {
    this.durable = setting !== 'put, await committed';
    this.snapshotOnly = false;
    this.guarantee = GUARANTEES[setting];
  }

  async open(dir: string): Promise<void> {
    if (this.#db !== null) throw new Error(`peer ${NAME}: already open`);
    // Loaded here, not at import: a native module that fails to load makes
    // this peer skipped (see available()), not the whole harness fail.
    const lmdb = await import('lmdb');
    this.#db = lmdb.open<Account, number>({ path: join(dir, SUBDIR) });
  }

  async put(row: Account): Promise<void> {
    const db = this.#open();
    if (this.setting === 'transactionSync') {
      db.transactionSync(() => db.putSync(row.id, row));
      return;
    }
    await db.put(row.id, row);
    if (this.setting === 'put, await flushed') await db.flushed;
  }

  async putBatch(rows: readonly Account[]): Promise<void> {
    const db = this.#open();
    const write = (): void => {
      for (const row of rows) db.putSync(row.id, row);
    };
    if (this.setting === 'transactionSync') {
      db.transactionSync(write);
      return;
    }
    await db.transaction(write);
    if (this.setting === 'put, await flushed') await db.flushed;
  }

  get(id: number): Account | undefined {
    const row = this.#open().get(id);
    return row === undefined ? undefined : toAccount(row);
  }

  count(): number {
    return this.#open().getCount();
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    if (db === null) return;
    try {
      await db.flushed;
    } finally {
      await db.close();
    }
  }

  #open(): Db {
    if (this.#db === null) throw notOpen(NAME);
    return this.#db;
  }
}

export const lmdbFactory: PeerFactory = {
  name: NAME,
  settings: SETTINGS,
  loadsAtOpen: false,
  async available(): Promise<string | null> {
    try {
      await import('lmdb');
      return null;
    } catch (error) {
      return `lmdb does not load: ${(error as Error).message}`;
    }
  },
  create(setting: string): Peer {
    return new LmdbPeer(pickSetting(NAME, setting, SETTINGS));
  },
};
