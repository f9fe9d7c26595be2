/**
 * better-sqlite3 as a peer: one table `accounts(id INTEGER PRIMARY KEY,
 * name TEXT, balance REAL, ts REAL)` in WAL mode, prepared statements.
 *
 * Settings (both WAL):
 * - `synchronous=NORMAL`, the fastest honest setting: a commit is appended
 *   to the WAL without fsync; the WAL is synced at checkpoints. The database
 *   stays consistent after a power loss, but the last commits may be lost.
 * - `synchronous=FULL`: every commit fsyncs the WAL before returning, so a
 *   returned commit survives a power loss.
 *
 * better-sqlite3 is synchronous: a put is one `INSERT OR REPLACE` (its own
 * implicit transaction) done before `put` returns its resolved promise; many
 * puts "in flight" therefore run one after another on the main thread, and
 * SQLite never groups them. A batch is one explicit transaction.
 */
import Sqlite from 'better-sqlite3';
import { join } from 'node:path';
import { notOpen, toAccount, pickSetting, type Account, type Peer, type PeerFactory } from './peer.js';

const NAME = 'better-sqlite3';
const SETTINGS = ['synchronous=NORMAL', 'synchronous=FULL'] as const;
type Setting = (typeof SETTINGS)[number];
const FILE = 'peer.sqlite';

interface Statements {
  readonly db: Sqlite.Database;
  readonly upsert: Sqlite.Statement<[number, string, number, number]>;
  readonly select: Sqlite.Statement<[number], Account>;
  readonly count: Sqlite.Statement<[], { n: number }>;
  readonly batch: (rows: readonly Account[]) => void;
}

function prepare(path: string, setting: Setting): Statements {
  const db = new Sqlite(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(setting === 'synchronous=FULL' ? 'synchronous = FULL' : 'synchronous = NORMAL');
    db.exec(
      'CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance REAL NOT NULL, ts REAL NOT NULL)',
    );
    const upsert = db.prepare<[number, string, number, number]>(
      'INSERT OR REPLACE INTO accounts (id, name, balance, ts) VALUES (?, ?, ?, ?)',
    );
    const select = db.prepare<[number], Account>('SELECT id, name, balance, ts FROM accounts WHERE id = ?');
    const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM accounts');
    const batch = db.transaction((rows: readonly Account[]) => {
      for (const r of rows) upsert.run(r.id, r.name, r.balance, r.ts);
    });
    return { db, upsert, select, count, batch };
  } catch (error) {
    db.close();
    throw error;
  }
}

class SqlitePeer implements Peer {
  readonly name = NAME;
  readonly durable: boolean;
  readonly snapshotOnly: boolean;
  readonly guarantee: string;
  #s: Statements | null = null;

  constructor(readonly setting: Setting) {
    this.durable = setting === 'synchronous=FULL';
    this.snapshotOnly = false;
    this.guarantee = this.durable
      ? 'WAL, each commit fsyncs the WAL before returning'
      : 'WAL, commits written without fsync (synced at checkpoints); consistent after a power loss, the last commits may be lost';
  }

  open(dir: string): Promise<void> {
    if (this.#s !== null) return Promise.reject(new Error(`peer ${NAME}: already open`));
    this.#s = prepare(join(dir, FILE), this.setting);
    return Promise.resolve();
  }

  put(row: Account): Promise<void> {
    this.#open().upsert.run(row.id, row.name, row.balance, row.ts);
    return Promise.resolve();
  }

  putBatch(rows: readonly Account[]): Promise<void> {
    this.#open().batch(rows);
    return Promise.resolve();
  }

  get(id: number): Account | undefined {
    const row = this.#open().select.get(id);
    return row === undefined ? undefined : toAccount(row);
  }

  count(): number {
    return this.#open().count.get()!.n;
  }

  close(): Promise<void> {
    const s = this.#s;
    this.#s = null;
    s?.db.close();
    return Promise.resolve();
  }

  #open(): Statements {
    if (this.#s === null) throw notOpen(NAME);
    return this.#s;
  }
}

export const sqliteFactory: PeerFactory = {
  name: NAME,
  settings: SETTINGS,
  loadsAtOpen: false,
  async available(): Promise<string | null> {
    try {
      new Sqlite(':memory:').close();
      return null;
    } catch (error) {
      return `better-sqlite3 does not load: ${(error as Error).message}`;
    }
  },
  create(setting: string): Peer {
    return new SqlitePeer(pickSetting(NAME, setting, SETTINGS));
  },
};
