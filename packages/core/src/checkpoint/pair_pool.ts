/**
 * The pool of pre-created pairs: PRECREATED pairs made whole ahead of need,
 * so opening the next pair to write costs no file creation. Invariants:
 *
 * - Every pair in the pool is PRECREATED, its data file zero-filled to its
 *   capacity and synced, its delta file holding only its header.
 * - The pool holds at most `precreatedFiles` pairs, oldest first; the pairs
 *   it takes from are the oldest.
 * - A file the pool made is in `created` until a checkpoint syncs the
 *   directory that names it, before any root names it.
 *
 * Capacities start small and grow: a new pair's data file is twice the
 * largest data file the database has (FIRST_DATA_FILE_BYTES for the first),
 * up to `dataFileSizeBytes`. A small database takes little disk and opens
 * fast; one that keeps writing soon fills whole large files.
 */
import { assert } from '../assert.js';
import {
  POOL_TOPUP_FILL_DEN,
  POOL_TOPUP_FILL_NUM,
  STREAM_STEP_FILE_DIVISOR,
  STREAM_STEP_MAX_BYTES,
  STREAM_STEP_MIN_BYTES,
} from '../constants.js';
import { encodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';
import { CFP_FORMAT_VERSION, CfpState, DATA_MAGIC, DELTA_MAGIC, dataFileName, deltaFileName } from './cfp_format.js';
import type { CheckpointState } from './checkpoint_state.js';
import { type OpenPair, openPair } from './open_pair.js';
import { createZeroFilled, precreatedIntact, removePairFiles } from './pair_files.js';
import { enter, leave } from './pair_state.js';
import type { CfpEntry } from './root_format.js';

/**
 * WAL bytes the streamer reads per step at most: a data file's size over
 * STREAM_STEP_FILE_DIVISOR, within STREAM_STEP_MIN_BYTES and
 * STREAM_STEP_MAX_BYTES. Small against a data file, so the pool's top-up
 * (`PairPool.neededSoon`) comes at least a step before a pair closes
 * (constants.ts asserts the relation).
 */
export function streamStepBytes(dataFileSizeBytes: number): number {
  return Math.min(
    STREAM_STEP_MAX_BYTES,
    Math.max(STREAM_STEP_MIN_BYTES, Math.floor(dataFileSizeBytes / STREAM_STEP_FILE_DIVISOR)),
  );
}

/** The first data file's size, at most (a smaller `dataFileSizeBytes` caps it). */
export const FIRST_DATA_FILE_BYTES = 2 * 1024 * 1024;

export class PairPool {
  /** PRECREATED pairs, oldest first. */
  readonly pairs: OpenPair[] = [];
  /** Files created since the last checkpoint, not named by a synced directory yet. */
  private readonly created: string[] = [];
  /** Files made, and pairs opened with the pool empty (for statistics). */
  filesCreated = 0;
  misses = 0;
  /** The largest data file capacity seen (pairs restored or made): the next pair's is twice it, capped. */
  private largest = 0;

  constructor(private readonly state: CheckpointState) {}

  /** Counts a pair the root names (any state) towards the size of the next one. */
  sawCapacity(capacity: number): void {
    this.largest = Math.max(this.largest, capacity);
  }

  /**
   * Takes a PRECREATED pair a root named into the pool, or, when it is not
   * fit to take (a file lost or damaged while the database was closed; it
   * holds no rows), removes what is left of it: the next root leaves it out.
   */
  restore(entry: CfpEntry): void {
    assert(entry.state === CfpState.PRECREATED, `the pool restores a ${entry.state} pair`);
    if (precreatedIntact(this.state, entry)) {
      this.pairs.push(openPair({ ...entry }));
      return;
    }
    leave(entry, CfpState.PRECREATED);
    removePairFiles(this.state, entry.id, false);
    this.state.structureChanged = true;
  }

  /**
   * Whether the pool should be topped up now: it is short, and a pair will
   * be opened soon — none is being written (`current` null), or the one being
   * written, with `pendingBytes` gathered for it, is at least
   * POOL_TOPUP_FILL_NUM/DEN full. Not sooner: a pre-created pair is a whole
   * data file of disk, held for as long as it waits (topped up whenever the
   * streamer was idle, one was held most of the time under updates). The
   * streamer's steps are small against a data file (`streamStepBytes`), so
   * the top-up still comes before the pair closes, busy or not.
   */
  neededSoon(current: CfpEntry | null, pendingBytes: number): boolean {
    if (this.pairs.length >= this.state.options.precreatedFiles) return false;
    return (
      current === null ||
      (current.dataLength + pendingBytes) * POOL_TOPUP_FILL_DEN >= current.capacity * POOL_TOPUP_FILL_NUM
    );
  }

  /** Creates PRECREATED pairs until the pool holds `precreatedFiles`; returns how many were made. */
  topUp(): number {
    let made = 0;
    while (this.pairs.length < this.state.options.precreatedFiles) {
      this.pairs.push(this.precreate());
      made++;
    }
    return made;
  }

  /** The oldest pair in the pool, or a new one when the pool is empty (a miss). */
  take(): OpenPair {
    const pair = this.pairs.shift();
    if (pair !== undefined) return pair;
    this.misses++;
    return this.precreate();
  }

  /** Syncs the directory that names the files created (and synced) since the last checkpoint; returns how many. */
  syncCreated(): number {
    const created = this.created.splice(0);
    if (created.length > 0) this.state.layer.fsyncDir(this.state.options.dir);
    return created.length;
  }

  /** A new pair: the data file zero-filled to its capacity (space really reserved), the delta file with its header. */
  private precreate(): OpenPair {
    const state = this.state;
    const id = state.takeFileId();
    const max = state.options.dataFileSizeBytes;
    const capacity = Math.min(max, Math.max(FIRST_DATA_FILE_BYTES, this.largest * 2));
    this.largest = Math.max(this.largest, capacity);
    const header = (magic: string, size: number): Uint8Array =>
      encodeFileHeader({ magic, version: CFP_FORMAT_VERSION, id, databaseId: state.options.databaseId, size, aux: 0 });
    this.created.push(createZeroFilled(state, dataFileName(id), header(DATA_MAGIC, capacity), capacity));
    this.created.push(createZeroFilled(state, deltaFileName(id), header(DELTA_MAGIC, 0), FILE_HEADER_BYTES));
    this.filesCreated += 2;
    state.structureChanged = true;
    return openPair({
      id,
      state: enter(CfpState.PRECREATED),
      minVersion: 0,
      maxVersion: null,
      firstCommitTs: 0,
      lastCommitTs: 0,
      capacity,
      dataLength: FILE_HEADER_BYTES,
      deltaLength: FILE_HEADER_BYTES,
      rows: 0,
      tombstones: 0,
      sinceCheckpoint: 0,
    });
  }
}
