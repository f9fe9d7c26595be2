/**
 * Checkpoints in the JetStream object store: a consistent copy of the
 * primary (db.backup(): its checkpoint file pairs, root and WAL cut) as
 * objects `<commitTs>/<file>`, then, last, the manifest `manifest/<commitTs>`
 * naming each file with its size and crc32, the database id, and the stream
 * sequence the copy covers (every message after it holds only commits the
 * copy may lack). A replica bootstraps from the newest manifest; the stream
 * is trimmed only below the oldest manifest kept.
 */
import {
  closeSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { ObjectStore } from '@nats-io/obj';
import { type Database, ErrorCode, replicationPort, TidemarkError } from '@tidemark/core';
import { retrying } from './retry.js';

export interface Manifest {
  version: 1;
  databaseId: string;
  commitTs: number;
  /** Stream messages after this sequence hold every commit after commitTs. */
  streamSeq: number;
  time: number;
  /** `size`: the file's length; `stored`: the bytes kept in the store (its trailing zeros are not); crc32 of those. */
  files: Array<{ name: string; size: number; stored: number; crc32: number }>;
}

const MANIFEST_PREFIX = 'manifest/';

function tsName(commitTs: number): string {
  return String(commitTs).padStart(16, '0');
}

export class CheckpointStore {
  constructor(private readonly store: ObjectStore) {}

  /** Copies `db` (a backup paced at `bytesPerSecond`) into the store; `coveredSeq` maps its commitTs to a stream sequence. */
  async upload(
    db: Database,
    bytesPerSecond: number,
    coveredSeq: (commitTs: number) => number,
    /** Called before the manifest is written (the files are in the store): throws to leave it unwritten. */
    ready: (commitTs: number) => Promise<void> = async () => {},
  ): Promise<Manifest> {
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-checkpoint-'));
    try {
      const copy = await db.backup(join(dir, 'copy'), { bytesPerSecond });
      const prefix = `${tsName(copy.commitTs)}/`;
      const files: Manifest['files'] = [];
      for (const name of readdirSync(join(dir, 'copy')).sort()) {
        const { size, bytes } = withoutTrailingZeros(join(dir, 'copy', name));
        await retrying(() => this.store.putBlob({ name: prefix + name }, bytes));
        files.push({ name, size, stored: bytes.length, crc32: crc32(bytes) });
      }
      await ready(copy.commitTs);
      const manifest: Manifest = {
        version: 1,
        databaseId: replicationPort(db).databaseId,
        commitTs: copy.commitTs,
        streamSeq: coveredSeq(copy.commitTs),
        time: Date.now(),
        files,
      };
      const json = new TextEncoder().encode(JSON.stringify(manifest));
      await retrying(() => this.store.putBlob({ name: MANIFEST_PREFIX + tsName(copy.commitTs) }, json));
      return manifest;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Every manifest in the store, oldest first. */
  async manifests(): Promise<Manifest[]> {
    const names = (await retrying(() => this.store.list()))
      .filter((o) => !o.deleted && o.name.startsWith(MANIFEST_PREFIX))
      .map((o) => o.name)
      .sort();
    const out: Manifest[] = [];
    for (const name of names) {
      const bytes = await retrying(() => this.store.getBlob(name));
      if (bytes === null) continue;
      out.push(parseManifest(bytes, name));
    }
    return out;
  }

  /** Writes the checkpoint of `manifest` into the empty directory `dir`, each file checked against its crc32. */
  async download(manifest: Manifest, dir: string): Promise<number> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let bytes = 0;
    for (const file of manifest.files) {
      const name = `${tsName(manifest.commitTs)}/${file.name}`;
      const data = await retrying(() => this.store.getBlob(name));
      if (data === null || data.length !== file.stored || crc32(data) !== file.crc32)
        throw new TidemarkError(
          ErrorCode.CORRUPT,
          `checkpoint object ${name} is missing or does not match its manifest`,
        );
      const path = join(dir, file.name);
      writeFileSync(path, data, { mode: 0o600 });
      // The zeros the store did not keep (a preallocated WAL segment, a data file's unused room) come back sparse.
      truncateSync(path, file.size);
      bytes += data.length;
    }
    return bytes;
  }

  /** Deletes all but the newest `keep` checkpoints (manifest first); returns the oldest kept. */
  async prune(keep: number): Promise<Manifest | null> {
    const all = await this.manifests();
    const drop = all.slice(0, Math.max(0, all.length - keep));
    for (const m of drop) {
      await retrying(() => this.store.delete(MANIFEST_PREFIX + tsName(m.commitTs)));
      for (const file of m.files) await retrying(() => this.store.delete(`${tsName(m.commitTs)}/${file.name}`));
    }
    return all[drop.length] ?? null;
  }
}

function parseManifest(bytes: Uint8Array, name: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
  } catch {
    throw new TidemarkError(ErrorCode.CORRUPT, `checkpoint manifest ${name} is not JSON`);
  }
  if (m?.version !== 1 || !Number.isSafeInteger(m.commitTs) || !Array.isArray(m.files))
    throw new TidemarkError(ErrorCode.CORRUPT, `checkpoint manifest ${name} is not a version 1 manifest`);
  return m;
}

/** A file's length, and its bytes up to the last one that is not zero. */
function withoutTrailingZeros(path: string): { size: number; bytes: Buffer } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const block = Buffer.alloc(1024 * 1024);
    let end = size;
    while (end > 0) {
      const from = Math.max(0, end - block.length);
      const n = readSync(fd, block, 0, end - from, from);
      if (n !== end - from) throw new Error(`short read of ${path}`);
      let i = n;
      while (i > 0 && block[i - 1] === 0) i--;
      if (i > 0) {
        end = from + i;
        break;
      }
      end = from;
    }
    const bytes = Buffer.alloc(end);
    if (end > 0 && readSync(fd, bytes, 0, end, 0) !== end) throw new Error(`short read of ${path}`);
    return { size, bytes };
  } finally {
    closeSync(fd);
  }
}

/** Whether `dir` holds nothing (or does not exist). */
export function isEmptyDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() ? readdirSync(dir).length === 0 : false;
  } catch {
    return true;
  }
}
