/**
 * The naive baseline a team writes by hand: a `Map` of row objects in
 * memory, persisted as JSON in the peer's directory.
 *
 * Settings:
 * - `snapshot`: a put changes the Map and resolves at once. Every
 *   SNAPSHOT_INTERVAL_MS (and at close) the whole Map is written with
 *   `JSON.stringify` to a temporary file renamed over `map.json`, without
 *   fsync. Not durable: a crash loses everything since the last snapshot.
 * - `append+fsync`: each commit is one JSON line (an array of its rows)
 *   appended to `map.jsonl`, and resolves after the file is fdatasync'd;
 *   the puts that arrive while a write+fdatasync runs are grouped into the
 *   next one (at most GROUP_MAX_LINES lines). Durable. The Map changes only
 *   after its line is synced, so it never holds what the file lacks; a torn
 *   last line (a crash mid-append) is ignored when the file is read back.
 */
import { open as openFile, readFile, rename, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { notOpen, toAccount, pickSetting, type Account, type Peer, type PeerFactory } from './peer.js';

const NAME = 'map-json';
const SETTINGS = ['snapshot', 'append+fsync'] as const;
type Setting = (typeof SETTINGS)[number];
const SNAPSHOT_FILE = 'map.json';
const LOG_FILE = 'map.jsonl';
/** How often the snapshot setting rewrites the whole Map. */
const SNAPSHOT_INTERVAL_MS = 1_000;
/** Lines written by one write+fdatasync, at most. */
const GROUP_MAX_LINES = 16_384;

interface Pending {
  readonly rows: readonly Account[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Rows of the log, last write wins; a last line without its newline is torn and skipped. */
function replayLog(text: string, map: Map<number, Account>): void {
  const end = text.lastIndexOf('\n');
  for (const line of text.slice(0, end + 1).split('\n')) {
    if (line === '') continue;
    for (const row of JSON.parse(line) as Account[]) map.set(row.id, toAccount(row));
  }
}

class MapJsonPeer implements Peer {
  readonly name = NAME;
  readonly durable: boolean;
  readonly snapshotOnly: boolean;
  readonly guarantee: string;
  #map: Map<number, Account> | null = null;
  #dir = '';
  #log: FileHandle | null = null;
  #timer: NodeJS.Timeout | null = null;
  #dirty = false;
  #snapshotting: Promise<void> | null = null;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  /** Set once a write or fdatasync of the log failed: its end may be torn, so later appends are refused. */
  #failed: Error | null = null;

  constructor(readonly setting: Setting) {
    this.durable = setting === 'append+fsync';
    this.snapshotOnly = setting === 'snapshot';
    this.guarantee = this.durable
      ? "one JSON line per commit appended and fdatasync'd before it resolves (grouped)"
      : `whole Map written as JSON every ${SNAPSHOT_INTERVAL_MS} ms and at close, no fsync: a crash loses everything since`;
  }

  async open(dir: string): Promise<void> {
    if (this.#map !== null) throw new Error(`peer ${NAME}: already open`);
    const map = new Map<number, Account>();
    this.#dir = dir;
    if (this.durable) {
      const text = await readIfExists(join(dir, LOG_FILE));
      if (text !== null) replayLog(text, map);
      this.#log = await openFile(join(dir, LOG_FILE), 'a');
    } else {
      const text = await readIfExists(join(dir, SNAPSHOT_FILE));
      if (text !== null) for (const row of JSON.parse(text) as Account[]) map.set(row.id, toAccount(row));
      this.#timer = setInterval(() => void this.#snapshot(), SNAPSHOT_INTERVAL_MS);
      this.#timer.unref();
    }
    this.#map = map;
  }

  put(row: Account): Promise<void> {
    return this.putBatch([row]);
  }

  putBatch(rows: readonly Account[]): Promise<void> {
    const map = this.#open();
    if (!this.durable) {
      for (const row of rows) map.set(row.id, { ...row });
      this.#dirty = true;
      return Promise.resolve();
    }
    if (this.#failed !== null) return Promise.reject(this.#failed);
    const copies = rows.map((row) => ({ ...row }));
    return new Promise((resolve, reject) => {
      this.#queue.push({ rows: copies, resolve, reject });
      this.#flushing ??= this.#flushLoop();
    });
  }

  get(id: number): Account | undefined {
    const row = this.#open().get(id);
    return row === undefined ? undefined : { ...row };
  }

  count(): number {
    return this.#open().size;
  }

  async close(): Promise<void> {
    if (this.#map === null) return;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    try {
      if (this.#flushing !== null) await this.#flushing;
      if (this.#snapshotting !== null) await this.#snapshotting;
      if (!this.durable && this.#dirty) await this.#snapshot();
    } finally {
      this.#map = null;
      await this.#log?.close();
      this.#log = null;
    }
  }

  /** Writes and syncs the queued lines, group after group, until the queue is empty. */
  async #flushLoop(): Promise<void> {
    const log = this.#log!;
    while (this.#queue.length > 0) {
      const group = this.#queue.splice(0, GROUP_MAX_LINES);
      try {
        await log.write(group.map((p) => `${JSON.stringify(p.rows)}\n`).join(''));
        await log.datasync();
      } catch (error) {
        this.#failed = error as Error;
        for (const p of [...group, ...this.#queue.splice(0)]) p.reject(this.#failed);
        break;
      }
      const map = this.#map!;
      for (const p of group) {
        for (const row of p.rows) map.set(row.id, row);
        p.resolve();
      }
    }
    this.#flushing = null;
  }

  #snapshot(): Promise<void> {
    if (this.#snapshotting !== null || !this.#dirty || this.#map === null)
      return this.#snapshotting ?? Promise.resolve();
    const text = JSON.stringify([...this.#map.values()]);
    this.#dirty = false;
    const path = join(this.#dir, SNAPSHOT_FILE);
    this.#snapshotting = writeFile(`${path}.tmp`, text)
      .then(() => rename(`${path}.tmp`, path))
      .finally(() => (this.#snapshotting = null));
    return this.#snapshotting;
  }

  #open(): Map<number, Account> {
    if (this.#map === null) throw notOpen(NAME);
    return this.#map;
  }
}

export const mapJsonFactory: PeerFactory = {
  name: NAME,
  settings: SETTINGS,
  loadsAtOpen: true,
  available: () => Promise.resolve(null),
  create(setting: string): Peer {
    return new MapJsonPeer(pickSetting(NAME, setting, SETTINGS));
  },
};
