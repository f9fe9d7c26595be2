/**
 * Publishing a root: the body written to a temp name, fsynced, renamed into
 * place and the directory fsynced (writeFileDurably), then the roots older
 * than the ROOTS_KEPT newest removed. Invariants:
 *
 * - Every file a root names is synced, and its directory entry too, before
 *   the root is written (the caller's duty; CheckpointWriter.checkpoint).
 * - Roots are removed only after a newer one is durable, so some valid root
 *   is on disk at every moment.
 */
import { assert } from '../assert.js';
import { ROOTS_KEPT } from '../constants.js';
import { writeFileDurably } from '../files/file_layer.js';
import type { CheckpointState } from './checkpoint_state.js';
import { encodeRoot, type RootBody, rootName, rootSeq } from './root_format.js';

/** Writes `body` as the root of its seq, durably; the next after the last one written. */
export function writeRoot(state: CheckpointState, body: RootBody): void {
  assert(body.seq === state.rootSeq + 1, `root ${body.seq} follows root ${state.rootSeq}`);
  writeFileDurably(state.layer, state.options.dir, rootName(body.seq), encodeRoot(body));
  state.rootSeq = body.seq;
}

/** Removes the roots older than the ROOTS_KEPT newest (the newest is `seq`). */
export function removeOldRoots(state: CheckpointState, seq: number): void {
  for (const name of state.layer.list(state.options.dir)) {
    const s = rootSeq(name);
    if (s >= 0 && s <= seq - ROOTS_KEPT) state.layer.unlink(state.path(name));
  }
}
