/**
 * A file of the simulated file system (sim_layer.ts): its bytes now, its
 * bytes as of the last fdatasync, and the writes since, in order; and the
 * file a crash leaves of it (`crashInode`), by how much of the unsynced
 * writes survives (`SimDamage`).
 */

/**
 * What a crash leaves of unsynced state: nothing; a random prefix of the
 * writes (the extended space as zeros or garbage); or `pages`, any subset of
 * the written 4 KiB pages, as writeback in no particular order leaves them.
 */
export type SimDamage = 'clean' | 'prefix' | 'zeros' | 'garbage' | 'pages';

export const SIM_DAMAGES: readonly SimDamage[] = ['clean', 'prefix', 'zeros', 'garbage', 'pages'];

const PAGE_BYTES = 4096;

export interface Inode {
  bytes: Uint8Array;
  size: number;
  /** The content as of the last fdatasync. */
  synced: Uint8Array;
  /** Writes since the last fdatasync, in order. */
  writes: Array<{ position: number; bytes: Uint8Array }>;
}

export function newInode(): Inode {
  return { bytes: new Uint8Array(0), size: 0, synced: new Uint8Array(0), writes: [] };
}

export function writeInto(inode: Inode, chunk: Uint8Array, position: number): void {
  const end = position + chunk.length;
  if (end > inode.bytes.length) {
    const grown = new Uint8Array(Math.max(end, inode.bytes.length * 2, 4096));
    grown.set(inode.bytes.subarray(0, inode.size));
    inode.bytes = grown;
  }
  if (position > inode.size) inode.bytes.fill(0, inode.size, position);
  inode.bytes.set(chunk, position);
  inode.size = Math.max(inode.size, end);
}

/** A file as a crash leaves it: synced bytes, a prefix of the later writes, maybe a torn one, maybe extended space. */
export function crashInode(inode: Inode, damage: SimDamage, random: (n: number) => number): Inode {
  const out = newInode();
  writeInto(out, inode.synced, 0);
  if (damage === 'pages') {
    for (const w of inode.writes) {
      for (
        let page = Math.floor(w.position / PAGE_BYTES) * PAGE_BYTES;
        page < w.position + w.bytes.length;
        page += PAGE_BYTES
      ) {
        if (random(2) === 0) continue;
        const from = Math.max(page, w.position);
        const to = Math.min(page + PAGE_BYTES, w.position + w.bytes.length);
        writeInto(out, w.bytes.subarray(from - w.position, to - w.position), from);
      }
    }
    if (inode.size > out.size && random(2) === 1) writeInto(out, new Uint8Array(inode.size - out.size), out.size);
  } else if (damage !== 'clean' && inode.writes.length > 0) {
    const kept = random(inode.writes.length + 1);
    for (const w of inode.writes.slice(0, kept)) writeInto(out, w.bytes, w.position);
    const torn = inode.writes[kept];
    if (torn !== undefined && random(2) === 1)
      writeInto(out, torn.bytes.subarray(0, random(torn.bytes.length)), torn.position);
    if ((damage === 'zeros' || damage === 'garbage') && inode.size > out.size) {
      // The file's new size reached the disk but not all of its data.
      const extra = new Uint8Array(inode.size - out.size);
      if (damage === 'garbage') for (let i = 0; i < extra.length; i++) extra[i] = random(256);
      writeInto(out, extra, out.size);
    }
  }
  out.synced = out.bytes.slice(0, out.size);
  return out;
}
