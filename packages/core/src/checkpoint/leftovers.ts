/**
 * Files a crash can leave behind in a database directory: CFP files made
 * after the last checkpoint (no root names them) and temp files of a root or
 * pair that was being written. Removed at open, after recovery.
 */
import { join } from 'node:path';
import type { FileLayer } from '../files/file_layer.js';
import { parseCfpFileName } from './cfp_format.js';
import type { RootBody } from './root_format.js';

/** Removes CFP files with ids at or past the root's nextFileId, and leftover temp files. Returns their names. */
export function removeLeftovers(layer: FileLayer, dir: string, root: RootBody | null): string[] {
  const removed: string[] = [];
  const nextFileId = root?.nextFileId ?? 1;
  for (const name of layer.list(dir)) {
    const cfp = parseCfpFileName(name);
    if ((cfp !== null && cfp.id >= nextFileId) || /^(data|delta|root)-[0-9a-f]{16}\.tmp$/.test(name)) {
      layer.unlink(join(dir, name));
      removed.push(name);
    }
  }
  if (removed.length > 0) layer.fsyncDir(dir);
  return removed;
}
