/**
 * What the parts of the checkpoint writer share: the file layer and options,
 * the pair ids handed out, the seq of the last root, and whether the next
 * root differs from it by more than the commit position. Invariants:
 *
 * - `nextFileId` only grows: an id is handed out once (a file whose id is at
 *   or past the last root's `nextFileId` is removed at open, so a pair made
 *   and not yet named by a root leaves no trace after a crash).
 * - `rootSeq` is the seq of the newest root written (0: none yet); a pair
 *   opened or merged now first belongs to the root after it.
 */
import { join } from 'node:path';
import type { FileLayer } from '../files/file_layer.js';
import type { RootBody } from './root_format.js';

export interface CheckpointWriterOptions {
  dir: string;
  databaseId: bigint;
  /** Capacity of a data file; it closes when the next entry would pass it. */
  dataFileSizeBytes: number;
  /** PRECREATED files kept ready ahead of need. */
  precreatedFiles: number;
  /** Permissions of the files a merge task creates (its own layer's are set where it was made); default owner only. */
  fileMode?: number;
}

export class CheckpointState {
  /** The next pair id to hand out (the root records it). */
  nextFileId: number;
  rootSeq: number;
  /** Whether anything besides the commit position changed since the last root (a file created, closed). */
  structureChanged = false;

  constructor(
    readonly layer: FileLayer,
    readonly options: CheckpointWriterOptions,
    root: RootBody | null,
  ) {
    this.rootSeq = root?.seq ?? 0;
    this.nextFileId = root?.nextFileId ?? 1;
  }

  takeFileId(): number {
    return this.nextFileId++;
  }

  /** The seq of the root being made: the root a pair opened now first belongs to. */
  get nextRootSeq(): number {
    return this.rootSeq + 1;
  }

  path(name: string): string {
    return join(this.options.dir, name);
  }
}
