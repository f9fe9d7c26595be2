/**
 * The WAL archive (options.archiveDir): the log writer copies each segment
 * the log has moved past (sealed, so whole) into the archive, a chunk per
 * step so a commit never waits behind a copy, then syncs it, renames it
 * into place and syncs the archive's directory. The writer recycles only
 * archived segments (`archivedBefore`), so an archive that fails (a missing
 * directory, a full disk) loses nothing: segments wait on disk, up to
 * `maxRetainedWalBytes` beyond what checkpoints need; past that the oldest
 * is let go unarchived and counted as skipped. A failure is retried every
 * RETRY_MS, shown in the statistics and the metrics, and warned of once
 * (TIDEMARK_ARCHIVE_FAILING) until the archive works again; commits never
 * wait for it.
 */
import { join } from 'node:path';
import { readAll, writeAll, type FileLayer } from '../files/file_layer.js';
import { listSegments } from './wal_reader.js';
import { decodeSegmentHeader, SEGMENT_HEADER_BYTES, segmentName } from './wal_format.js';

const CHUNK_BYTES = 1 << 20;
const RETRY_MS = 1000;

interface Copy {
  seq: number;
  from: number;
  to: number;
  size: number;
  done: number;
}

export class WalArchiver {
  /** Every segment below it is archived (or skipped). */
  next: number;
  failing = false;
  skipped = 0;
  private copy: Copy | null = null;
  private retryAt = 0;
  private readonly buffer = new Uint8Array(CHUNK_BYTES);

  constructor(
    private readonly layer: FileLayer,
    private readonly dir: string,
    private readonly archiveDir: string,
    /** The oldest segment on disk (or the one being written): where an empty archive starts. */
    oldest: number,
    private readonly now: () => number,
  ) {
    let archived = -1;
    try {
      archived = listSegments(layer, archiveDir).at(-1) ?? -1;
    } catch {
      // Not there (yet): the first copy fails, says so, and is tried again.
    }
    this.next = Math.max(archived + 1, oldest);
  }

  /**
   * Copies a chunk of the next segment below `writing` (the one being
   * written); returns whether it did work. Gives up on segments below
   * `keepFrom` (the retention bound let them go).
   */
  step(writing: number, keepFrom: number): boolean {
    if (this.next < keepFrom) this.skipTo(keepFrom);
    if (this.next >= writing || this.now() < this.retryAt) return false;
    try {
      this.copy ??= this.begin(this.next);
      if (this.copy === null) return true;
      this.advance(this.copy);
      this.failing = false;
      return true;
    } catch (error) {
      this.abandon();
      if (!this.failing) {
        process.emitWarning(
          `the WAL archive ${this.archiveDir} is failing (${(error as Error).message}); segments wait on disk for it and it is tried again every ${RETRY_MS} ms`,
          { code: 'TIDEMARK_ARCHIVE_FAILING' },
        );
      }
      this.failing = true;
      this.retryAt = this.now() + RETRY_MS;
      return false;
    }
  }

  close(): void {
    this.abandon();
  }

  private skipTo(seq: number): void {
    this.abandon();
    this.skipped += seq - this.next;
    this.next = seq;
  }

  /** Opens the copy of segment `seq`; null (and moves on) if it is gone or holds another sequence (recycled). */
  private begin(seq: number): Copy | null {
    const path = join(this.dir, segmentName(seq));
    if (!this.layer.exists(path)) {
      this.skipTo(seq + 1);
      return null;
    }
    const from = this.layer.open(path, false);
    const header = new Uint8Array(SEGMENT_HEADER_BYTES);
    readAll(this.layer, from, header, 0, SEGMENT_HEADER_BYTES, 0);
    if (decodeSegmentHeader(header, path).seq !== seq) {
      this.layer.close(from);
      this.skipTo(seq + 1);
      return null;
    }
    const temp = join(this.archiveDir, `${segmentName(seq)}.tmp`);
    if (this.layer.exists(temp)) this.layer.unlink(temp);
    let to: number;
    try {
      to = this.layer.open(temp, true);
    } catch (error) {
      this.layer.close(from);
      throw error;
    }
    return { seq, from, to, size: this.layer.size(path), done: 0 };
  }

  private advance(copy: Copy): void {
    const temp = join(this.archiveDir, `${segmentName(copy.seq)}.tmp`);
    const n = readAll(this.layer, copy.from, this.buffer, 0, Math.min(CHUNK_BYTES, copy.size - copy.done), copy.done);
    writeAll(this.layer, copy.to, temp, this.buffer, 0, n, copy.done);
    copy.done += n;
    if (copy.done < copy.size && n > 0) return;
    this.layer.fdatasync(copy.to);
    this.closeCopy(copy);
    this.layer.rename(temp, join(this.archiveDir, segmentName(copy.seq)));
    this.layer.fsyncDir(this.archiveDir);
    this.next = copy.seq + 1;
  }

  private closeCopy(copy: Copy): void {
    this.copy = null;
    this.layer.close(copy.from);
    this.layer.close(copy.to);
  }

  private abandon(): void {
    if (this.copy === null) return;
    const copy = this.copy;
    try {
      this.closeCopy(copy);
    } catch {
      // Closing a copy that failed: nothing more to do with it.
    }
  }
}
