/**
 * Damage for the corruption matrix: a database directory held in memory
 * (name → bytes), read through a FileLayer so verify() runs on it without
 * touching the disk, and the mutations applied to one file of it.
 */
import { basename, join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { ErrorCode, TidemarkError } from '../../src/errors.js';
import type { FileLayer } from '../../src/files/file_layer.js';
import { makeRandom } from './dirs.js';

export type Files = Map<string, Uint8Array>;
export type FileKind = 'wal' | 'data' | 'delta' | 'root' | 'lock';
export const MODES = ['flip', 'zero', 'truncate', 'misdirect', 'older', 'missing', 'unknown'] as const;
export type Mode = (typeof MODES)[number];

export function kindOf(name: string): FileKind | null {
  if (name === 'LOCK') return 'lock';
  const m = /^(wal|data|delta|root)-[0-9a-f]{16}$/.exec(name);
  return m === null ? null : (m[1] as FileKind);
}

/** A seeded source with good low bits: makeRandom's LCG, its high halves joined. Each call gives an integer in [0, n). */
export function seededRandom(seed: number): (n: number) => number {
  const lcg = makeRandom(seed >>> 0);
  return (n) => {
    const high = lcg(2 ** 32) >>> 16;
    const low = lcg(2 ** 32) >>> 16;
    return Math.floor(((high * 65536 + low) / 2 ** 32) * n);
  };
}

/** A read-only FileLayer over files held in memory, as if they were the directory `dir`. */
export class MemoryLayer implements FileLayer {
  private readonly fds = new Map<number, Uint8Array>();
  private next = 3;

  constructor(
    private readonly dir: string,
    private readonly files: Files,
  ) {}

  private file(path: string): Uint8Array {
    const bytes = this.files.get(basename(path));
    if (bytes === undefined || join(this.dir, basename(path)) !== path)
      throw new TidemarkError(ErrorCode.IO_ERROR, `ENOENT on ${path}`);
    return bytes;
  }
  open(path: string): number {
    this.fds.set(this.next, this.file(path));
    return this.next++;
  }
  read(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number {
    const file = this.fds.get(fd)!;
    const n = Math.max(0, Math.min(length, file.length - position));
    bytes.set(file.subarray(position, position + n), offset);
    return n;
  }
  close(fd: number): void {
    this.fds.delete(fd);
  }
  size(path: string): number {
    return this.file(path).length;
  }
  exists(path: string): boolean {
    return this.files.has(basename(path)) && join(this.dir, basename(path)) === path;
  }
  list(): string[] {
    return [...this.files.keys()];
  }
  write(): number {
    throw new Error('read only');
  }
  fdatasync(): void {
    throw new Error('read only');
  }
  mkdir(): void {
    throw new Error('read only');
  }
  rename(): void {
    throw new Error('read only');
  }
  unlink(): void {
    throw new Error('read only');
  }
  fsyncDir(): void {
    throw new Error('read only');
  }
  truncate(): void {
    throw new Error('read only');
  }
  tryLock(): boolean {
    throw new Error('read only');
  }
  sameFile(): boolean {
    throw new Error('read only');
  }
}

export function writeFiles(dir: string, files: Files): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
}

/** What one mutation did: the file it is about (the new name for `unknown`) and how. */
export interface Mutation {
  file: string;
  what: string;
  /** The first and last byte changed (for the torn-tail reading), or null for whole-file changes. */
  from: number | null;
}

/** Where a file's bytes end: past the last non-zero byte (pre-allocated files are zeros after their data). */
function usedBytes(bytes: Uint8Array): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/** An offset in the file: half the time anywhere, half the time in the part holding data. */
function offsetIn(bytes: Uint8Array, random: (n: number) => number): number {
  const used = usedBytes(bytes);
  return random(2) === 0 || used === 0 ? random(bytes.length) : random(used);
}

/**
 * Applies `mode` to `file` of `files` (a copy is returned; the input is
 * untouched). `older` lists earlier copies of the directory from the same
 * run. Returns null where the mode cannot apply (an empty file).
 */
export function mutate(
  files: Files,
  file: string,
  mode: Mode,
  random: (n: number) => number,
  older: Files[],
): { files: Files; mutation: Mutation } | null {
  const out = new Map(files);
  const bytes = files.get(file)!;
  const kind = kindOf(file)!;
  const sameKind = (set: Files): string[] => [...set.keys()].filter((n) => kindOf(n) === kind);
  if (mode === 'flip' || mode === 'zero') {
    if (bytes.length === 0) return null;
    const copy = bytes.slice();
    const at = offsetIn(bytes, random);
    if (mode === 'flip') {
      const flips = 1 + random(3);
      for (let i = 0; i < flips; i++) copy[Math.min(bytes.length - 1, at + random(64))]! ^= 1 << random(8);
      out.set(file, copy);
      return { files: out, mutation: { file, what: `${flips} bit flips near offset ${at}`, from: at } };
    }
    const length = 1 + random(Math.min(4096, bytes.length - at));
    copy.fill(0, at, at + length);
    out.set(file, copy);
    return { files: out, mutation: { file, what: `zeroed ${length} bytes at ${at}`, from: at } };
  }
  if (mode === 'truncate') {
    if (bytes.length === 0) return null;
    const length = random(2) === 0 ? random(bytes.length) : random(Math.max(1, usedBytes(bytes)));
    out.set(file, bytes.slice(0, length));
    return { files: out, mutation: { file, what: `truncated to ${length} of ${bytes.length} bytes`, from: length } };
  }
  if (mode === 'misdirect') {
    // A LOCK is smaller than a sector: a few bytes from any file land on it.
    const sources = kind === 'lock' ? [...files.keys()] : random(2) === 0 ? [file] : sameKind(files);
    const source = sources[random(sources.length)]!;
    const from = files.get(source)!;
    const block = kind === 'lock' ? 1 + random(Math.max(1, bytes.length)) : [64, 512, 4096][random(3)]!;
    if (from.length < block || bytes.length < block) return null;
    const at = random(Math.floor((bytes.length - block) / block) + 1) * block;
    const sourceAt = random(Math.floor((from.length - block) / block) + 1) * block;
    const copy = bytes.slice();
    copy.set(from.subarray(sourceAt, sourceAt + block), at);
    out.set(file, copy);
    return {
      files: out,
      mutation: { file, what: `${block}-byte block from ${source} at ${sourceAt} written at ${at}`, from: at },
    };
  }
  if (mode === 'older') {
    // An earlier copy of the same file if one differs; else an earlier (or current) file of its kind under this name.
    const same = older.map((set) => set.get(file)).filter((b): b is Uint8Array => b !== undefined && !equal(b, bytes));
    if (same.length > 0) {
      const pick = random(same.length);
      out.set(file, same[pick]!);
      return {
        files: out,
        mutation: { file, what: `an older copy of itself (${pick + 1} of ${same.length})`, from: null },
      };
    }
    const sets = [...older, files];
    const set = sets[random(sets.length)]!;
    const others = sameKind(set).filter((n) => n !== file);
    if (others.length === 0) return null;
    const other = others[random(others.length)]!;
    out.set(file, set.get(other)!);
    return { files: out, mutation: { file, what: `replaced by a copy of ${other}`, from: null } };
  }
  if (mode === 'missing') {
    out.delete(file);
    return { files: out, mutation: { file, what: 'deleted', from: null } };
  }
  const name = unknownName(files, file, random);
  const content = random(2) === 0 ? bytes.slice() : randomBytes(random, 1 + random(256));
  out.set(name, content);
  return { files: out, mutation: { file: name, what: `a file ${name} added (${content.length} bytes)`, from: null } };
}

/** A name beside `file`: one the engine never makes, or the next free name of its own pattern. */
function unknownName(files: Files, file: string, random: (n: number) => number): string {
  const m = /^(wal|data|delta|root)-([0-9a-f]{16})$/.exec(file);
  const choice = random(6);
  if (m !== null && choice === 0) {
    let id = Number.parseInt(m[2]!, 16) + 1;
    const name = (n: number): string => `${m[1]}-${n.toString(16).padStart(16, '0')}`;
    while (files.has(name(id))) id++;
    return name(id);
  }
  const names = [`${file}.bak`, `${file.toUpperCase()}X`, 'notes.txt', `${file.slice(0, -1)}`, `.${file}`, 'LOCK.old'];
  for (let i = 0; ; i++) {
    const name = names[(choice + i) % names.length]!;
    if (!files.has(name)) return name;
  }
}

function randomBytes(random: (n: number) => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = random(256);
  return bytes;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
