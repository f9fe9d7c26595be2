/**
 * Every file operation of the engine goes through this interface, so tests
 * can substitute a simulated file system that fails, tears and loses unsynced
 * writes. It is synchronous: it is called from worker threads, and on the
 * main thread only while opening or closing a database, never on the commit
 * path.
 *
 * Writes are positional and must be complete: `writeAll` turns a short write
 * into an error instead of silently accepting fewer bytes.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';

export interface FileLayer {
  /** Opens `path` for reading and writing, creating it if asked; returns a handle. */
  open(path: string, create: boolean): number;
  /** Writes up to `length` bytes at `position`; returns how many were written. */
  write(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number;
  /** Reads up to `length` bytes at `position`; returns how many were read. */
  read(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number;
  fdatasync(fd: number): void;
  close(fd: number): void;
  size(path: string): number;
  exists(path: string): boolean;
  /** Names in a directory. */
  list(dir: string): string[];
  mkdir(dir: string): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Makes the directory's entries (creates, renames, unlinks) durable. */
  fsyncDir(dir: string): void;
  /** Cuts the open file to `sizeBytes` (never longer than it is). */
  truncate(fd: number, sizeBytes: number): void;
  /**
   * Takes the operating system's exclusive advisory lock on the open file
   * without waiting; false if another open of the file holds it (in this
   * process too). Closing `fd` drops it, and so does the end of the process.
   */
  tryLock(fd: number): boolean;
  /** Whether `path` still names the file open at `fd` (false if `path` is gone). */
  sameFile(fd: number, path: string): boolean;
}

/**
 * The permissions of a database's files, unless options.fileMode widens
 * them: owner only, as PostgreSQL insists on for its data directory, since
 * the files hold every row in the clear.
 */
export const DEFAULT_FILE_MODE = 0o600;

/** A directory's mode for files of `fileMode`: the same, with search (x) wherever read is allowed. */
export function dirModeOf(fileMode: number): number {
  return fileMode | ((fileMode & 0o444) >> 2);
}

/** The real file system, through Node's synchronous fs calls. */
export class NodeFileLayer implements FileLayer {
  /** `fileMode`: the permissions of the files it creates, less the umask (directories: dirModeOf). */
  constructor(readonly fileMode: number = DEFAULT_FILE_MODE) {}

  open(path: string, create: boolean): number {
    return io(path, () =>
      fs.openSync(path, create ? fs.constants.O_RDWR | fs.constants.O_CREAT : fs.constants.O_RDWR, this.fileMode),
    );
  }
  write(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number {
    return io(`fd ${fd}`, () => fs.writeSync(fd, bytes, offset, length, position));
  }
  read(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number {
    return io(`fd ${fd}`, () => fs.readSync(fd, bytes, offset, length, position));
  }
  fdatasync(fd: number): void {
    try {
      fs.fdatasyncSync(fd);
    } catch (error) {
      throw syncError((error as NodeJS.ErrnoException).code ?? 'unknown', `fd ${fd}`, (error as Error).message, error);
    }
  }
  close(fd: number): void {
    io(`fd ${fd}`, () => fs.closeSync(fd));
  }
  size(path: string): number {
    return io(path, () => fs.statSync(path).size);
  }
  exists(path: string): boolean {
    return fs.existsSync(path);
  }
  list(dir: string): string[] {
    return io(dir, () => fs.readdirSync(dir));
  }
  mkdir(dir: string): void {
    io(dir, () => fs.mkdirSync(dir, { recursive: true, mode: dirModeOf(this.fileMode) }));
  }
  rename(from: string, to: string): void {
    io(from, () => fs.renameSync(from, to));
  }
  unlink(path: string): void {
    io(path, () => fs.unlinkSync(path));
  }
  fsyncDir(dir: string): void {
    const fd = io(dir, () => fs.openSync(dir, fs.constants.O_RDONLY));
    try {
      fs.fsyncSync(fd);
    } catch (error) {
      throw syncError((error as NodeJS.ErrnoException).code ?? 'unknown', dir, (error as Error).message, error);
    } finally {
      fs.closeSync(fd);
    }
  }
  truncate(fd: number, sizeBytes: number): void {
    io(`fd ${fd}`, () => fs.ftruncateSync(fd, sizeBytes));
  }
  tryLock(fd: number): boolean {
    return io(`fd ${fd}`, () => nativeLocks().tryLock(fd));
  }
  sameFile(fd: number, path: string): boolean {
    const opened = io(`fd ${fd}`, () => fs.fstatSync(fd));
    const named = io(path, () => fs.statSync(path, { throwIfNoEntry: false }));
    return named !== undefined && named.dev === opened.dev && named.ino === opened.ino;
  }
}

/**
 * The lock calls of fs-native-extensions (an open-file-description lock on
 * Linux, flock on macOS), loaded on first use: only the thread that opens a
 * database locks, so the worker threads, which share this module, never pay
 * for loading the native addon.
 */
let nativeModule: { tryLock(fd: number): boolean } | null = null;
function nativeLocks(): { tryLock(fd: number): boolean } {
  nativeModule ??= createRequire(import.meta.url)('fs-native-extensions') as { tryLock(fd: number): boolean };
  return nativeModule;
}

/** Runs a file operation, turning an OS error into a TidemarkError naming the file (the cause keeps errno/code). */
function io<T>(what: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw fileError((error as NodeJS.ErrnoException).code ?? 'unknown', what, (error as Error).message, error);
  }
}

/** Errors that mean the disk has no room: the engine waits for space instead of failing. */
const SPACE_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);

/** An OS error as the engine reports it: DISK_FULL for lack of space, IO_ERROR for the rest. */
export function fileError(errno: string, what: string, message: string, cause?: unknown): TidemarkError {
  const code = SPACE_ERRNOS.has(errno) ? ErrorCode.DISK_FULL : ErrorCode.IO_ERROR;
  return new TidemarkError(code, `${errno} on ${what}: ${message}`, {
    cause: cause ?? Object.assign(new Error(message), { code: errno }),
  });
}

/**
 * A failed fdatasync is IO_ERROR whatever the errno, ENOSPC included: the
 * kernel may already have dropped the unsynced pages, so trying again could
 * report success for data that is gone. The engine stops instead.
 */
export function syncError(errno: string, what: string, message: string, cause?: unknown): TidemarkError {
  return new TidemarkError(
    ErrorCode.IO_ERROR,
    `sync failed (${errno}) on ${what}: ${message}; its unsynced writes cannot be trusted`,
    {
      cause: cause ?? Object.assign(new Error(message), { code: errno }),
    },
  );
}

/** Whether a file operation failed because the file (or its folder) is not there. */
export function isNotFound(error: unknown): boolean {
  return error instanceof TidemarkError && (error.cause as { code?: string } | undefined)?.code === 'ENOENT';
}

/** Whether a file operation failed for lack of space (and may succeed once space returns). */
export function isDiskFull(error: unknown): boolean {
  return error instanceof TidemarkError && error.code === ErrorCode.DISK_FULL;
}

/** Writes all `length` bytes at `position`, looping over partial writes; a write that makes no progress is an error. */
export function writeAll(
  layer: FileLayer,
  fd: number,
  path: string,
  bytes: Uint8Array,
  offset: number,
  length: number,
  position: number,
): void {
  let done = 0;
  while (done < length) {
    const n = layer.write(fd, bytes, offset + done, length - done, position + done);
    if (!(n > 0)) {
      // A write that takes nothing is the disk running out of room (the OS reports ENOSPC on the next try).
      throw new TidemarkError(
        ErrorCode.DISK_FULL,
        `short write to ${path} at offset ${position + done}: ${done} of ${length} bytes written`,
      );
    }
    done += n;
  }
}

/** Reads exactly `length` bytes at `position`, or fewer only at the end of the file; returns how many. */
export function readAll(
  layer: FileLayer,
  fd: number,
  bytes: Uint8Array,
  offset: number,
  length: number,
  position: number,
): number {
  let done = 0;
  while (done < length) {
    const n = layer.read(fd, bytes, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/** The whole file at `path` (what a concurrent writer has written so far, if it grows). */
export function readFile(layer: FileLayer, path: string): Uint8Array {
  const size = layer.size(path);
  const bytes = new Uint8Array(size);
  const fd = layer.open(path, false);
  try {
    return bytes.subarray(0, readAll(layer, fd, bytes, 0, size, 0));
  } finally {
    layer.close(fd);
  }
}

/** Creates `path` with `bytes` durably: write to a temp name, fdatasync, rename, fsync the directory. */
export function writeFileDurably(layer: FileLayer, dir: string, name: string, bytes: Uint8Array): void {
  const temp = join(dir, `${name}.tmp`);
  if (layer.exists(temp)) layer.unlink(temp);
  const fd = layer.open(temp, true);
  try {
    writeAll(layer, fd, temp, bytes, 0, bytes.length, 0);
    layer.fdatasync(fd);
  } finally {
    layer.close(fd);
  }
  layer.rename(temp, join(dir, name));
  layer.fsyncDir(dir);
}
