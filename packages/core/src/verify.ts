/**
 * `verify(dir)`: checks a closed database directory and reports every
 * problem found, without opening it for writing — no LOCK taken or written,
 * nothing removed, nothing zeroed, no worker started.
 *
 * It runs the engine's own readers, so it checks exactly what open() checks,
 * and more: every root file (open stops at the newest that verifies), each
 * pair's data file even when its delta file fails, every row decoded through
 * its table's schema, the headers of the free WAL segments, the LOCK file's
 * shape, and names the engine never makes. Then, if the files each hold,
 * the checkpoint is loaded and the WAL replayed into an engine in memory, as
 * open() does, which checks what only the files together can show (a row in
 * two pairs, a log record that does not fit the tables).
 *
 *   list ─► LOCK ─► roots (newest first) ─► pairs of the chosen root, file by file
 *        ─► checkpoint loaded + WAL replayed in memory ─► free segments, leftovers, unknown names
 *
 * Problems are exactly what open() fails on, so `ok` (no problems) is
 * whether open() loads the directory. Everything else found is a warning:
 * states a crash leaves and open() repairs (a torn WAL tail, cut at open;
 * leftover files of unfinished work, removed at open; a LOCK left by a
 * process that is gone, taken over), damage open() loads past (a root
 * that does not verify while another does, a damaged pre-created pair, a
 * malformed LOCK), and files the engine never makes (open() leaves them).
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
  parseCfpFileName,
} from './checkpoint/cfp_format.js';
import { decodeFileHeader, FILE_HEADER_BYTES } from './files/file_header.js';
import { corrupt, readDelta, scanData } from './checkpoint/cfp_reader.js';
import { decodeRoot, rootSeq, type CfpEntry, type NewestRoot, type RootBody } from './checkpoint/root_format.js';
import { LOCK_LINE_MAX_BYTES } from './constants.js';
import { whyNoDatabase } from './database_dir.js';
import { ErrorCode, TidemarkError } from './errors.js';
import { NodeFileLayer, readAll, readFile, type FileLayer } from './files/file_layer.js';
import { segmentName, segmentSeq } from './log/wal_format.js';
import { listSegments, replayWal } from './log/wal_reader.js';
import { visitRecord } from './log/record.js';
import { Replayer } from './log/replay.js';
import { loadCheckpoint } from './recovery/load_checkpoint.js';
import { ProgressReporter } from './recovery/progress.js';
import { blameSkippedRoot } from './recovery/skipped_root.js';
import { makeRowCodec, type RowCodec } from './schema/codec.js';
import { definitionFromJson } from './schema/definition_json.js';
import { defineTable } from './schema/schema.js';
import { Engine } from './txn/engine.js';
import { DiscardSink } from './txn/sink.js';
import { checkOptionKeys } from './options.js';
import type { VerifiedFile, VerifyCode, VerifyOptions, VerifyProblem, VerifyReport } from './verify_report.js';
import {
  checkSegmentHeader,
  contentDigest,
  decodingVisitor,
  fileNamed,
  firstFileNamed,
  kindOf,
  LOCK_NAME,
  lockFinding,
  messageOf,
  missingCode,
  offsetIn,
  TEMP_PATTERN,
} from './verify_support.js';

export type {
  VerifiedFile,
  VerifiedFileKind,
  VerifyCode,
  VerifyOptions,
  VerifyProblem,
  VerifyReport,
} from './verify_report.js';

const VERIFY_KEYS: ReadonlySet<string> = new Set(['layer']);

/**
 * Checks the closed database in `dir`, reading only; see VerifyReport. A
 * path that holds no database (database_dir.ts) is one NO_DATABASE problem
 * and nothing more. Rejects only if the directory cannot be listed.
 */
export async function verify(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  checkOptionKeys(options, VERIFY_KEYS);
  const layer = options.layer ?? new NodeFileLayer();
  const noDatabase = whyNoDatabase(layer, dir);
  if (noDatabase !== null) return noDatabaseReport(dir, noDatabase);
  return new VerifyRun(dir, layer).run();
}

function noDatabaseReport(dir: string, message: string): VerifyReport {
  return {
    ok: false,
    dir,
    root: null,
    problems: [{ code: 'NO_DATABASE', file: null, offset: null, message }],
    warnings: [],
    files: [],
    tables: null,
    digest: null,
    checkpointTs: 0,
    lastCommitTs: 0,
  };
}

class VerifyRun {
  private readonly problems: VerifyProblem[] = [];
  private readonly warnings: VerifyProblem[] = [];
  private readonly roles = new Map<string, VerifiedFile['role']>();
  private readonly names: string[];
  private root: RootBody | null = null;
  private rootName: string | null = null;
  /** Roots newer than the chosen one that do not verify, as readNewestRoot reports them. */
  private readonly skipped: NewestRoot['skipped'] = [];
  /** Files with damage open() loads past (warnings now; see demoteTolerated). */
  private readonly damaged = new Set<string | null>();

  constructor(
    private readonly dir: string,
    private readonly layer: FileLayer,
  ) {
    this.names = layer.list(dir).sort();
  }

  async run(): Promise<VerifyReport> {
    this.checkLock();
    this.checkRoots();
    const pairsHold = this.root === null || this.checkPairs();
    const loaded = pairsHold ? await this.load() : null;
    this.checkFreeSegments();
    this.classifyRest();
    this.demoteTolerated();
    const files = this.names.map((file) => this.describe(file));
    return {
      ok: this.problems.length === 0,
      dir: this.dir,
      root: this.rootName,
      problems: this.problems,
      warnings: this.warnings,
      files,
      tables: loaded?.tables ?? null,
      digest: loaded?.digest ?? null,
      checkpointTs: this.root?.checkpointTs ?? 0,
      lastCommitTs: loaded?.lastCommitTs ?? 0,
    };
  }

  private checkLock(): void {
    if (!this.names.includes(LOCK_NAME)) return;
    this.roles.set(LOCK_NAME, 'other');
    const text = this.attempt(LOCK_NAME, 'LOCK_MALFORMED', () => {
      const fd = this.layer.open(join(this.dir, LOCK_NAME), false);
      try {
        const bytes = new Uint8Array(LOCK_LINE_MAX_BYTES + 1);
        return new TextDecoder().decode(bytes.subarray(0, readAll(this.layer, fd, bytes, 0, bytes.length, 0)));
      } finally {
        this.layer.close(fd);
      }
    });
    if (text === null) return;
    const finding = lockFinding(text);
    if (finding.code === 'LOCK_MALFORMED') this.add(finding.code, LOCK_NAME, 0, finding.message);
    else this.warn(finding.code, LOCK_NAME, null, finding.message);
  }

  /** Every root, newest first; the newest that verifies is the one open() loads. */
  private checkRoots(): void {
    const seqs = this.names
      .map((name) => ({ name, seq: rootSeq(name) }))
      .filter((r) => r.seq >= 0)
      .sort((a, b) => b.seq - a.seq);
    for (const { name, seq } of seqs) {
      const root = this.attempt(name, 'ROOT_INVALID', () =>
        decodeRoot(readFile(this.layer, join(this.dir, name)), join(this.dir, name), seq),
      );
      this.roles.set(name, this.root === null && root !== null ? 'current' : 'previous');
      if (root === null && this.root === null)
        this.skipped.push({ file: join(this.dir, name), reason: this.problems[this.problems.length - 1]!.message });
      if (root !== null && this.root === null) {
        this.root = root;
        this.rootName = name;
      }
    }
    if (seqs.length > 0 && this.root === null)
      this.add(
        'NO_ROOT',
        null,
        null,
        `${this.dir}: root files exist but none verifies, so open() cannot find the checkpoint`,
      );
  }

  /** Each pair the root loads, file by file; returns whether they all hold. */
  private checkPairs(): boolean {
    const root = this.root!;
    const before = this.problems.length;
    const codecs = root.catalog.map((definition) => makeRowCodec(defineTable(definitionFromJson(definition))));
    for (const cfp of root.cfps) {
      const data = dataFileName(cfp.id);
      const delta = deltaFileName(cfp.id);
      if (cfp.state === CfpState.PRECREATED) continue;
      if (!holdsRows(cfp.state)) {
        const role = cfp.state === CfpState.MERGE_TARGET || cfp.state === CfpState.TOMBSTONE ? 'leftover' : 'unused';
        for (const name of [data, delta]) if (this.names.includes(name)) this.roles.set(name, role);
        continue;
      }
      this.roles.set(data, 'current');
      this.roles.set(delta, 'current');
      const missing = [data, delta].filter((name) => !this.names.includes(name));
      for (const name of missing)
        this.add(
          'FILE_MISSING',
          name,
          null,
          `${name}: pair ${cfp.id} (${cfp.state}) is named by ${this.rootName} but missing`,
        );
      if (missing.length > 0) continue;
      this.checkPair(root, cfp, codecs);
    }
    const hold = this.problems.length === before;
    // Damage to a pre-created pair is reported, but the rows load without it (it holds none): open() loads past it.
    for (const cfp of root.cfps) if (cfp.state === CfpState.PRECREATED) this.checkPrecreated(root, cfp);
    return hold;
  }

  /**
   * A pre-created pair is not loaded and holds no rows; the streamer drops
   * one whose files are missing or whose headers are bad (and makes
   * another), but it is still damage to the directory, so it is reported.
   */
  private checkPrecreated(root: RootBody, cfp: CfpEntry): void {
    for (const [name, magic] of [
      [dataFileName(cfp.id), DATA_MAGIC],
      [deltaFileName(cfp.id), DELTA_MAGIC],
    ] as const) {
      this.roles.set(name, 'unused');
      if (!this.names.includes(name)) {
        this.add(
          'FILE_MISSING',
          name,
          null,
          `${name}: pre-created pair ${cfp.id} is named by ${this.rootName} but missing (it holds no rows: the streamer drops it and makes another)`,
        );
        continue;
      }
      this.attempt(name, 'CFP_INVALID', () => {
        const path = join(this.dir, name);
        const fd = this.layer.open(path, false);
        const bytes = new Uint8Array(FILE_HEADER_BYTES);
        try {
          const header = decodeFileHeader(
            bytes.subarray(0, readAll(this.layer, fd, bytes, 0, bytes.length, 0)),
            magic,
            CFP_FORMAT_VERSION,
            path,
            'pre-created pair file',
          );
          if (header.id !== cfp.id)
            throw corrupt(path, `pre-created pair file header names pair ${header.id}, the root ${cfp.id}`, 16);
          if (header.databaseId !== BigInt(root.databaseId))
            throw corrupt(path, `pre-created pair file belongs to another database (id ${header.databaseId})`, 24);
        } finally {
          this.layer.close(fd);
        }
      });
    }
  }

  private checkPair(root: RootBody, cfp: CfpEntry, codecs: RowCodec[]): void {
    const databaseId = BigInt(root.databaseId);
    const tableName = (tableId: number): string =>
      tableId < codecs.length ? defineTable(definitionFromJson(root.catalog[tableId])).name : String(tableId);
    const deleted = this.attempt(deltaFileName(cfp.id), 'CFP_INVALID', () =>
      readDelta(this.layer, this.dir, cfp, databaseId),
    );
    const path = join(this.dir, dataFileName(cfp.id));
    this.attempt(dataFileName(cfp.id), 'CFP_INVALID', () =>
      scanData(this.layer, this.dir, cfp, databaseId, deleted, {
        row: (tableId, versionId, bytes, view, entryAt, _size, dataOffset) => {
          const codec = codecs[tableId];
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

  /** Loads the checkpoint and replays the WAL into an engine in memory, as open() does. */
  private async load(): Promise<{
    tables: Array<{ name: string; rows: number }>;
    digest: string;
    lastCommitTs: number;
  } | null> {
    const engine = new Engine(new DiscardSink(), 'snapshot', 'durable', Infinity);
    const root = this.root;
    if (root !== null) {
      const progress = new ProgressReporter(undefined);
      const loaded = await this.attemptAsync(this.rootName!, 'CHECKPOINT_INVALID', () =>
        loadCheckpoint(engine, this.dir, root, { layer: this.layer, workers: 0, progress }).catch((error: unknown) => {
          throw this.blame(error);
        }),
      );
      if (loaded === null) return null;
      engine.advanceClock(root.checkpointTs);
    }
    const replayer = new Replayer(engine);
    const visitor = decodingVisitor(engine, replayer);
    const start =
      root === null ? null : { ...root.wal, afterTs: root.checkpointTs, databaseId: BigInt(root.databaseId) };
    const position = this.attempt(root === null ? null : segmentName(root.wal.seq), 'WAL_INVALID', () => {
      try {
        return replayWal(
          this.layer,
          this.dir,
          (bytes, offset, length, where, view) => {
            replayer.where = where;
            visitRecord(bytes, offset, length, visitor, where, view);
          },
          start,
        );
      } catch (error) {
        throw this.blame(error);
      }
    });
    for (const seq of listSegments(this.layer, this.dir))
      if (seq >= (root?.wal.seq ?? 0)) this.roles.set(segmentName(seq), 'current');
    if (position === null) {
      this.checkSegmentHeaders(root?.wal.seq ?? 0);
      return null;
    }
    if (position.tornTail !== null) {
      const file = fileNamed(position.tornTail.file);
      this.warn(
        'WAL_TORN_TAIL',
        file,
        position.tornTail.offset,
        `${file}: the WAL ends in a bad batch at offset ${position.tornTail.offset} with nothing valid after it (a write cut short by a crash); open() cuts it there`,
      );
    }
    return {
      tables: engine.tables.map((t) => ({ name: t.name, rows: t.liveRows })),
      digest: contentDigest(engine),
      lastCommitTs: position.lastCommitTs,
    };
  }

  /** A missing file the chosen root needs, blamed on the newer root that does not verify (as open() does). */
  private blame(error: unknown): unknown {
    return blameSkippedRoot(error, {
      root: this.root,
      file: this.rootName === null ? null : join(this.dir, this.rootName),
      skipped: this.skipped,
    });
  }

  /** After a WAL failure: the header of every later segment, so a second bad one is reported too. */
  private checkSegmentHeaders(first: number): void {
    for (const seq of listSegments(this.layer, this.dir)) {
      const name = segmentName(seq);
      if (seq < first || this.problems.some((p) => p.file === name)) continue;
      this.attempt(name, 'WAL_INVALID', () => checkSegmentHeader(this.layer, this.dir, seq));
    }
  }

  /** Segments before the checkpoint: never read by open(), rewritten when recycled; a bad header is a warning. */
  private checkFreeSegments(): void {
    const first = this.root?.wal.seq ?? 0;
    for (const seq of listSegments(this.layer, this.dir)) {
      if (seq >= first) continue;
      const name = segmentName(seq);
      this.roles.set(name, 'free');
      try {
        checkSegmentHeader(this.layer, this.dir, seq);
      } catch (error) {
        this.warn('FREE_SEGMENT_INVALID', name, offsetIn(error), messageOf(error));
      }
    }
  }

  /** Pair files no root names, temp files, unknown names. */
  private classifyRest(): void {
    for (const name of this.names) {
      if (this.roles.has(name)) continue;
      if (parseCfpFileName(name) !== null || TEMP_PATTERN.test(name)) {
        this.roles.set(name, 'leftover');
        this.warn(
          'LEFTOVER_FILE',
          name,
          null,
          `${name}: left by unfinished work (no root loads it); open() removes it`,
        );
      } else if (segmentSeq(name) < 0 && rootSeq(name) < 0) {
        // open() leaves such a file alone, so it is no reason to refuse the directory.
        this.roles.set(name, 'other');
        this.warn('UNKNOWN_FILE', name, null, `${name}: not a file the engine makes; open() leaves it alone`);
      }
    }
    for (const [name, role] of this.roles) {
      if (role !== 'leftover' || parseCfpFileName(name) === null || this.warnings.some((w) => w.file === name))
        continue;
      this.warn(
        'LEFTOVER_FILE',
        name,
        null,
        `${name}: a pair the root names as MERGE_TARGET or TOMBSTONE; open() removes it`,
      );
    }
  }

  /**
   * Damage open() loads past becomes a warning, so that `ok` is exactly
   * whether open() loads the directory: a root that does not verify while
   * another is chosen (open skips it), a missing or damaged file of a
   * pre-created pair (it holds no rows; the streamer drops it and makes
   * another), a malformed LOCK (open takes it over).
   */
  private demoteTolerated(): void {
    const tolerated = (p: VerifyProblem): boolean =>
      p.code === 'LOCK_MALFORMED' ||
      (p.code === 'ROOT_INVALID' && this.root !== null) ||
      ((p.code === 'CFP_INVALID' || p.code === 'FILE_MISSING') &&
        p.file !== null &&
        this.roles.get(p.file) === 'unused');
    const kept = this.problems.filter((p) => !tolerated(p));
    for (const p of this.problems.filter(tolerated)) {
      this.damaged.add(p.file);
      this.warnings.push(
        p.code === 'ROOT_INVALID' ? { ...p, message: `${p.message}; open() skips it and loads ${this.rootName}` } : p,
      );
    }
    this.problems.splice(0, this.problems.length, ...kept);
  }

  private describe(file: string): VerifiedFile {
    let sizeBytes = 0;
    try {
      sizeBytes = this.layer.size(join(this.dir, file));
    } catch {
      // Vanished while verifying: reported as it is.
    }
    return {
      file,
      kind: kindOf(file),
      role: this.roles.get(file) ?? 'other',
      sizeBytes,
      ok: !this.damaged.has(file) && !this.problems.some((p) => p.file === file),
    };
  }

  /** Runs a check; a TidemarkError becomes a problem (named after the file its message names, else `file`). */
  private attempt<T>(file: string | null, code: VerifyCode, check: () => T): T | null {
    try {
      return check();
    } catch (error) {
      this.fail(file, code, error);
      return null;
    }
  }

  private async attemptAsync<T>(file: string | null, code: VerifyCode, check: () => Promise<T>): Promise<T | null> {
    try {
      return await check();
    } catch (error) {
      this.fail(file, code, error);
      return null;
    }
  }

  private fail(file: string | null, code: VerifyCode, error: unknown): void {
    const named = firstFileNamed(messageOf(error)) ?? file;
    if (!(error instanceof TidemarkError)) this.add('UNEXPECTED_ERROR', named, null, `${String(error)}`);
    else if (error.code === ErrorCode.IO_ERROR) this.add('IO_ERROR', named, null, error.message);
    else this.add(missingCode(error.message) ?? code, named, offsetIn(error), error.message);
  }

  private add(code: VerifyCode, file: string | null, offset: number | null, message: string): void {
    this.problems.push({ code, file, offset, message });
  }

  private warn(code: VerifyCode, file: string | null, offset: number | null, message: string): void {
    this.warnings.push({ code, file, offset, message });
  }
}
