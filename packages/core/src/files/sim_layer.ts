/**
 * A simulated file system for fault tests: seeded, deterministic, in memory.
 *
 * It keeps, per file, what is durable (the bytes as of the last fdatasync)
 * apart from what is only written (the appends and overwrites since), and
 * per directory, the entries as of the last directory fsync apart from the
 * creates, renames and unlinks since. So it can
 *
 * - fail the N-th operation, once or from then on, with EIO or ENOSPC, or
 *   turn it into a short write (`failAt`);
 * - run out of space: a write past `capacityBytes` is short, the next one
 *   ENOSPC (`capacityBytes` can be raised again: space returns);
 * - crash (`crashAt`: the N-th operation and every one after it throws
 *   SimCrash and changes nothing), and give the image a restart would find
 *   (`image`): durable bytes, then a random prefix of each file's unsynced
 *   writes (the first write dropped maybe torn) or any subset of their
 *   pages, extended space filled with zeros or garbage, and a random prefix
 *   of each directory's unsynced creates, renames (each whole) and unlinks.
 *
 * Invariants: an operation that throws changes nothing (but a short write
 * writes its prefix, and a failed fdatasync drops the file's unsynced
 * writes, as Linux may once it has marked the pages clean); a file's durable bytes change only at its fdatasync;
 * a directory's durable entries change only at its fsyncDir. Directories
 * themselves (mkdir) are durable at once; the engine makes one and never
 * removes it. A truncate is durable at once too: the engine truncates only
 * the LOCK, whose bytes no recovery reads. A lock (`tryLock`) belongs to a
 * handle and ends at its close; a crash ends the process and every lock with
 * it, so an image holds none.
 */
import { basename, dirname, posix } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';
import { fileError, syncError, type FileLayer } from './file_layer.js';
import { crashInode, newInode, writeInto, type Inode, type SimDamage } from './sim_inode.js';

export { SIM_DAMAGES, type SimDamage } from './sim_inode.js';

/** The operations a fault or a crash can hit, counted in one sequence. */
export type SimOp =
  | 'open'
  | 'write'
  | 'read'
  | 'fdatasync'
  | 'rename'
  | 'unlink'
  | 'fsyncDir'
  | 'list'
  | 'size'
  | 'mkdir'
  | 'truncate';

/** EIO and ENOSPC throw; 'short' makes a write return half its length (0 for 1 byte). */
export type SimFaultKind = 'EIO' | 'ENOSPC' | 'short';

/** Thrown by every operation of a crashed simulated file system. Not a TidemarkError: nothing should handle it. */
export class SimCrash extends Error {
  override name = 'SimCrash';
  readonly code = 'SIM_CRASH';
}

interface Dir {
  entries: Map<string, Inode>;
  synced: Map<string, Inode>;
  /** Entry changes since the last fsyncDir, in order, each whole: links (inode) and unlinks (null); a rename is both at once. */
  changes: Array<Array<{ name: string; inode: Inode | null }>>;
}

interface Fault {
  at: number;
  kind: SimFaultKind;
  persistent: boolean;
}

/** The operations each fault can hit: ENOSPC where space is taken, a short count on writes, EIO anywhere. */
const FAULT_OPS: Record<SimFaultKind, ReadonlySet<SimOp> | null> = {
  EIO: null,
  ENOSPC: new Set<SimOp>(['open', 'write', 'fdatasync', 'rename', 'mkdir', 'fsyncDir']),
  short: new Set<SimOp>(['write']),
};

export class SimFileLayer implements FileLayer {
  /** Operations counted so far (the index of the next one is `ops + 1`). */
  ops = 0;
  /** Bytes all files may hold together; past it writes are short, then ENOSPC. */
  capacityBytes = Infinity;
  /** Faults that fired, for the test's report. */
  faultsFired = 0;
  /** Called with every counted operation (to trace a failing case). */
  onOp: ((index: number, op: SimOp, path: string) => void) | null = null;
  private readonly dirs = new Map<string, Dir>();
  private readonly fds = new Map<number, { inode: Inode; path: string }>();
  /** The handle that holds each locked file's lock. */
  private readonly locks = new Map<Inode, number>();
  private nextFd = 3;
  private fault: Fault | null = null;
  private crashOp = Infinity;

  /** Fails the `at`-th operation from now that the kind can hit (and, if persistent, every later one). */
  failAt(at: number, kind: SimFaultKind, persistent = false): void {
    this.fault = { at: this.ops + at, kind, persistent };
  }

  /** Ends every fault: the disk works again (space too, unless `capacityBytes` stays low). */
  heal(): void {
    this.fault = null;
  }

  /** The `at`-th operation from now, and all after it, throw SimCrash. */
  crashAt(at: number): void {
    this.crashOp = this.ops + at;
  }

  get crashed(): boolean {
    return this.ops >= this.crashOp;
  }

  /** Bytes held by every file reachable by name or by an open handle. */
  get usedBytes(): number {
    const seen = new Set<Inode>();
    for (const dir of this.dirs.values()) for (const inode of dir.entries.values()) seen.add(inode);
    for (const { inode } of this.fds.values()) seen.add(inode);
    let used = 0;
    for (const inode of seen) used += inode.size;
    return used;
  }

  /**
   * What a restart after a crash now would find, as a new file system:
   * `damage` says how much unsynced state survives; `random(n)` gives an
   * integer in [0, n) and makes the choice reproducible.
   */
  image(damage: SimDamage, random: (n: number) => number): SimFileLayer {
    const copy = new SimFileLayer();
    const images = new Map<Inode, Inode>();
    const imageOf = (inode: Inode): Inode => {
      let made = images.get(inode);
      if (made === undefined) {
        made = crashInode(inode, damage, random);
        images.set(inode, made);
      }
      return made;
    };
    for (const [path, dir] of this.dirs) {
      const entries = new Map(dir.synced);
      const kept = damage === 'clean' ? 0 : random(dir.changes.length + 1);
      for (const change of dir.changes.slice(0, kept)) {
        for (const { name, inode } of change) {
          if (inode === null) entries.delete(name);
          else entries.set(name, inode);
        }
      }
      const imaged = new Map([...entries].map(([name, inode]) => [name, imageOf(inode)] as const));
      copy.dirs.set(path, { entries: imaged, synced: new Map(imaged), changes: [] });
    }
    return copy;
  }

  /** Every file of `dir` as it now reads: name → bytes (for copying onto a real disk). */
  files(dir: string): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [name, inode] of this.dirOf(norm(dir), 'list').entries) out.set(name, inode.bytes.slice(0, inode.size));
    return out;
  }

  /** Replaces or creates the file `path` with `bytes`, durably (a test's tampering). */
  put(path: string, bytes: Uint8Array): void {
    const inode = newInode();
    inode.bytes = bytes.slice();
    inode.size = bytes.length;
    inode.synced = bytes.slice();
    const dir = this.dirOf(norm(dirname(path)), 'open');
    dir.entries.set(basename(path), inode);
    dir.synced.set(basename(path), inode);
  }

  open(path: string, create: boolean): number {
    this.count('open', path);
    const dir = this.dirOf(norm(dirname(path)), 'open');
    const name = basename(path);
    let inode = dir.entries.get(name);
    if (inode === undefined) {
      if (!create) throw fileError('ENOENT', path, 'no such file');
      inode = newInode();
      dir.entries.set(name, inode);
      dir.changes.push([{ name, inode }]);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { inode, path });
    return fd;
  }

  write(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number {
    const handle = this.handle(fd);
    const short = this.count('write', handle.path);
    const inode = handle.inode;
    let n = short ? length >> 1 : length;
    const growth = Math.max(0, position + n - inode.size);
    const free = this.capacityBytes - this.usedBytes;
    if (growth > free) {
      n = Math.max(0, inode.size + free - position);
      if (n === 0) throw fileError('ENOSPC', handle.path, 'no space left on device');
    }
    if (n === 0) return 0;
    const chunk = bytes.slice(offset, offset + n);
    writeInto(inode, chunk, position);
    inode.writes.push({ position, bytes: chunk });
    return n;
  }

  read(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number {
    const handle = this.handle(fd);
    this.count('read', handle.path);
    const inode = handle.inode;
    const n = Math.max(0, Math.min(length, inode.size - position));
    bytes.set(inode.bytes.subarray(position, position + n), offset);
    return n;
  }

  fdatasync(fd: number): void {
    const handle = this.handle(fd);
    const inode = handle.inode;
    try {
      this.count('fdatasync', handle.path);
    } catch (error) {
      // The harshest reading of a failed writeback (Linux keeps the pages in its cache but may have lost them
      // on disk): later reads see only the synced bytes, so anything the engine trusted after it shows.
      if (!(error instanceof SimCrash)) {
        inode.size = 0;
        inode.writes = [];
        writeInto(inode, inode.synced, 0);
      }
      throw error;
    }
    inode.synced = inode.bytes.slice(0, inode.size);
    inode.writes = [];
  }

  close(fd: number): void {
    const { inode } = this.handle(fd);
    if (this.locks.get(inode) === fd) this.locks.delete(inode);
    this.fds.delete(fd);
  }

  truncate(fd: number, sizeBytes: number): void {
    const handle = this.handle(fd);
    this.count('truncate', handle.path);
    const inode = handle.inode;
    inode.size = Math.min(inode.size, sizeBytes);
    inode.synced = inode.synced.slice(0, sizeBytes);
    inode.writes = inode.writes
      .filter((w) => w.position < sizeBytes)
      .map((w) => ({ position: w.position, bytes: w.bytes.subarray(0, sizeBytes - w.position) }));
  }

  tryLock(fd: number): boolean {
    const { inode } = this.handle(fd);
    if ((this.locks.get(inode) ?? fd) !== fd) return false;
    this.locks.set(inode, fd);
    return true;
  }

  sameFile(fd: number, path: string): boolean {
    return this.handle(fd).inode === this.dirs.get(norm(dirname(path)))?.entries.get(basename(path));
  }

  size(path: string): number {
    this.count('size', path);
    return this.inodeOf(path).size;
  }

  exists(path: string): boolean {
    if (this.crashed) throw new SimCrash(`crashed: exists ${path}`);
    return this.dirs.get(norm(dirname(path)))?.entries.has(basename(path)) ?? false;
  }

  list(dir: string): string[] {
    this.count('list', dir);
    return [...this.dirOf(norm(dir), 'list').entries.keys()];
  }

  mkdir(dir: string): void {
    this.count('mkdir', dir);
    const path = norm(dir);
    if (!this.dirs.has(path)) this.dirs.set(path, { entries: new Map(), synced: new Map(), changes: [] });
  }

  rename(from: string, to: string): void {
    this.count('rename', from);
    const dir = this.dirOf(norm(dirname(from)), 'rename');
    if (norm(dirname(to)) !== norm(dirname(from)))
      throw new TidemarkError(ErrorCode.IO_ERROR, `simulated file system: rename across directories (${from} → ${to})`);
    const inode = this.inodeOf(from);
    dir.entries.delete(basename(from));
    dir.entries.set(basename(to), inode);
    dir.changes.push([
      { name: basename(from), inode: null },
      { name: basename(to), inode },
    ]);
  }

  unlink(path: string): void {
    this.count('unlink', path);
    this.inodeOf(path);
    const dir = this.dirOf(norm(dirname(path)), 'unlink');
    dir.entries.delete(basename(path));
    dir.changes.push([{ name: basename(path), inode: null }]);
  }

  fsyncDir(dir: string): void {
    this.count('fsyncDir', dir);
    const d = this.dirOf(norm(dir), 'fsyncDir');
    d.synced = new Map(d.entries);
    d.changes = [];
  }

  /** Counts an operation; throws the crash or the fault due now. Returns true when a write is to be short. */
  private count(op: SimOp, path: string): boolean {
    this.ops++;
    this.onOp?.(this.ops, op, path);
    if (this.ops >= this.crashOp) throw new SimCrash(`crashed at operation ${this.crashOp}: ${op} ${path}`);
    const fault = this.fault;
    if (fault === null || this.ops < fault.at || (!fault.persistent && this.ops !== fault.at)) return false;
    if (FAULT_OPS[fault.kind]?.has(op) === false) {
      if (!fault.persistent) fault.at++; // a once-only fault waits for an operation it can hit
      return false;
    }
    this.faultsFired++;
    if (fault.kind === 'short') return true;
    const message = `simulated ${fault.kind} on ${op} (operation ${this.ops})`;
    throw op === 'fdatasync' || op === 'fsyncDir'
      ? syncError(fault.kind, path, message)
      : fileError(fault.kind, path, message);
  }

  private handle(fd: number): { inode: Inode; path: string } {
    if (this.crashed) throw new SimCrash(`crashed: fd ${fd}`);
    const handle = this.fds.get(fd);
    if (handle === undefined) throw fileError('EBADF', `fd ${fd}`, 'bad file descriptor');
    return handle;
  }

  private dirOf(path: string, op: string): Dir {
    const dir = this.dirs.get(path);
    if (dir === undefined) throw fileError('ENOENT', path, `no such directory (${op})`);
    return dir;
  }

  private inodeOf(path: string): Inode {
    const inode = this.dirs.get(norm(dirname(path)))?.entries.get(basename(path));
    if (inode === undefined) throw fileError('ENOENT', path, 'no such file');
    return inode;
  }
}

function norm(path: string): string {
  return posix.normalize(path).replace(/\/+$/, '') || '/';
}
