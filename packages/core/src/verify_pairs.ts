/**
 * verify's checks of the pairs the chosen root names, file by file: every
 * pair that holds rows is read whole (its delta file, then its data file
 * with every row decoded through its table's schema); a pre-created pair,
 * which holds none, has its file headers checked.
 */
import { join } from 'node:path';
import {
  CFP_FORMAT_VERSION,
  CfpState,
  DATA_ENTRY_HEADER_BYTES,
  DATA_MAGIC,
  dataFileName,
  DELTA_MAGIC,
  deltaFileName,
  holdsRows,
} from './checkpoint/cfp_format.js';
import { corrupt, readDelta, scanData } from './checkpoint/cfp_reader.js';
import type { CfpEntry, RootBody } from './checkpoint/root_format.js';
import { decodeFileHeader, FILE_HEADER_BYTES } from './files/file_header.js';
import { readAll, type FileLayer } from './files/file_layer.js';
import { makeRowCodec, type RowCodec } from './schema/codec.js';
import { schemaFromJson } from './schema/stored.js';
import type { Findings } from './verify_findings.js';
import { messageOf } from './verify_support.js';

/** The directory and the root whose pairs are checked. */
export interface PairScope {
  readonly dir: string;
  readonly layer: FileLayer;
  /** Every name in the directory. */
  readonly names: readonly string[];
  readonly findings: Findings;
  readonly root: RootBody;
  readonly rootName: string;
}

/** Each pair the root loads, file by file; returns whether they all hold. */
export function checkPairs(scope: PairScope): boolean {
  const { root, names, findings } = scope;
  const before = findings.problems.length;
  const schemas = root.catalog.map(schemaFromJson);
  const codecs = schemas.map((schema) => (schema === null ? null : makeRowCodec(schema)));
  for (const cfp of root.cfps) {
    const data = dataFileName(cfp.id);
    const delta = deltaFileName(cfp.id);
    if (cfp.state === CfpState.PRECREATED) continue;
    if (!holdsRows(cfp.state)) {
      const role = cfp.state === CfpState.MERGE_TARGET || cfp.state === CfpState.TOMBSTONE ? 'leftover' : 'unused';
      for (const name of [data, delta]) if (names.includes(name)) findings.roles.set(name, role);
      continue;
    }
    findings.roles.set(data, 'current');
    findings.roles.set(delta, 'current');
    const missing = [data, delta].filter((name) => !names.includes(name));
    for (const name of missing)
      findings.add(
        'FILE_MISSING',
        name,
        null,
        `${name}: pair ${cfp.id} (${cfp.state}) is named by ${scope.rootName} but missing`,
      );
    if (missing.length > 0) continue;
    checkPair(scope, cfp, codecs);
  }
  const hold = findings.problems.length === before;
  // Damage to a pre-created pair is reported, but the rows load without it (it holds none): open() loads past it.
  for (const cfp of root.cfps) if (cfp.state === CfpState.PRECREATED) checkPrecreated(scope, cfp);
  return hold;
}

/**
 * A pre-created pair is not loaded and holds no rows; the streamer drops
 * one whose files are missing or whose headers are bad (and makes
 * another), but it is still damage to the directory, so it is reported.
 */
function checkPrecreated(scope: PairScope, cfp: CfpEntry): void {
  const { dir, layer, findings } = scope;
  for (const [name, magic] of [
    [dataFileName(cfp.id), DATA_MAGIC],
    [deltaFileName(cfp.id), DELTA_MAGIC],
  ] as const) {
    findings.roles.set(name, 'unused');
    if (!scope.names.includes(name)) {
      findings.add(
        'FILE_MISSING',
        name,
        null,
        `${name}: pre-created pair ${cfp.id} is named by ${scope.rootName} but missing (it holds no rows: the streamer drops it and makes another)`,
      );
      continue;
    }
    findings.attempt(name, 'CFP_INVALID', () => {
      const path = join(dir, name);
      const fd = layer.open(path, false);
      const bytes = new Uint8Array(FILE_HEADER_BYTES);
      try {
        const header = decodeFileHeader(
          bytes.subarray(0, readAll(layer, fd, bytes, 0, bytes.length, 0)),
          magic,
          CFP_FORMAT_VERSION,
          path,
          'pre-created pair file',
        );
        if (header.id !== cfp.id)
          throw corrupt(path, `pre-created pair file header names pair ${header.id}, the root ${cfp.id}`, 16);
        if (header.databaseId !== BigInt(scope.root.databaseId))
          throw corrupt(path, `pre-created pair file belongs to another database (id ${header.databaseId})`, 24);
      } finally {
        layer.close(fd);
      }
    });
  }
}

/** `codecs` by table id; null for a dropped table, whose rows are not checked (recovery does not load them). */
function checkPair(scope: PairScope, cfp: CfpEntry, codecs: (RowCodec | null)[]): void {
  const { dir, layer, findings, root } = scope;
  const databaseId = BigInt(root.databaseId);
  const tableName = (tableId: number): string => codecs[tableId]?.schema.name ?? String(tableId);
  const deleted = findings.attempt(deltaFileName(cfp.id), 'CFP_INVALID', () => readDelta(layer, dir, cfp, databaseId));
  const path = join(dir, dataFileName(cfp.id));
  findings.attempt(dataFileName(cfp.id), 'CFP_INVALID', () =>
    scanData(layer, dir, cfp, databaseId, deleted, {
      row: (tableId, versionId, bytes, view, entryAt, _size, dataOffset) => {
        const codec = codecs[tableId];
        if (codec === null) return;
        if (codec === undefined)
          throw corrupt(
            path,
            `a row (version ${versionId}) names table ${tableId}, which the root's catalog does not hold`,
            dataOffset,
          );
        const at = entryAt + DATA_ENTRY_HEADER_BYTES;
        try {
          codec.decode(bytes, view, at, view.getUint32(entryAt + 4, true));
        } catch (error) {
          throw corrupt(
            path,
            `the row of version ${versionId} does not decode as a row of "${tableName(tableId)}": ${messageOf(error)}`,
            dataOffset,
          );
        }
      },
      blockEnd: () => {},
    }),
  );
}
