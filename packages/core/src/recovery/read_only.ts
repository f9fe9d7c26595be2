/**
 * open({ dir, readOnly: true }): recovery without a LOCK, a log writer or a
 * streamer, changing no file. The newest root's checkpoint is loaded and the
 * WAL after it replayed as at any open, but leftovers are left where they
 * are and a torn tail is only read up to (the next writer would cut it).
 * The engine then refuses every write with READ_ONLY.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { NodeFileLayer, type FileLayer } from '../files/file_layer.js';
import { whyNoDatabase } from '../database_dir.js';
import type { FilledOptions } from '../options.js';
import type { Engine } from '../txn/engine.js';
import { newestRootOf, recoverDir, type RecoveryReport } from './recover_dir.js';
import { blameSkippedRoot } from './skipped_root.js';

export async function openReadOnly(
  engine: Engine,
  options: FilledOptions & { dir: string },
  layer: FileLayer = new NodeFileLayer(options.fileMode),
): Promise<RecoveryReport> {
  const why = whyNoDatabase(layer, options.dir);
  if (why !== null)
    throw new TidemarkError(ErrorCode.INVALID_OPTION, `options.dir: ${why}; readOnly opens only an existing database`);
  const newest = newestRootOf(layer, options.dir);
  try {
    const { recovery } = await recoverDir(engine, { ...options, readOnly: true }, layer, newest);
    engine.readOnly = true;
    return recovery;
  } catch (error) {
    throw blameSkippedRoot(error, newest);
  }
}
