/**
 * Files a crash can leave behind in a database directory: CFP files no root
 * names (made after the last checkpoint, or a merge target whose merge was
 * not installed), the files of pairs the root names as MERGE_TARGET (a merge
 * cut short) or TOMBSTONE (merged away, deleted once no root needs them),
 * and temp files of a root or pair that was being written. Removed at open,
 * after recovery.
 */
import { join } from 'node:path';
import type { FileLayer } from '../files/file_layer.js';
import { CfpState, parseCfpFileName } from './cfp_format.js';
import type { RootBody } from './root_format.js';

/** Removes CFP files the root does not need (see above), and leftover temp files. Returns their names. */
export function removeLeftovers(layer: FileLayer, dir: string, root: RootBody | null): string[] {
  const removed: string[] = [];
  const kept = new Set<number>();
  for (const entry of root?.cfps ?? [])
    if (entry.state !== CfpState.MERGE_TARGET && entry.state !== CfpState.TOMBSTONE) kept.add(entry.id);
  for (const name of layer.list(dir)) {
    const cfp = parseCfpFileName(name);
    if ((cfp !== null && !kept.has(cfp.id)) || /^(data|delta|root)-[0-9a-f]{16}\.tmp$/.test(name)) {
      layer.unlink(join(dir, name));
      removed.push(name);
    }
  }
  if (removed.length > 0) layer.fsyncDir(dir);
  return removed;
}
