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
import { parseCfpFileName } from './checkpoint/cfp_format.js';
import { decodeRoot, rootSeq, type NewestRoot, type RootBody } from './checkpoint/root_format.js';
import { LOCK_LINE_MAX_BYTES } from './constants.js';
import { whyNoDatabase } from './database_dir.js';
import { NodeFileLayer, readAll, readFile, type FileLayer } from './files/file_layer.js';
import { segmentName, segmentSeq } from './log/wal_format.js';
import { listSegments, replayWal } from './log/wal_reader.js';
import { visitRecord } from './log/record.js';
import { Replayer } from './log/replay.js';
import { loadCheckpoint } from './recovery/load_checkpoint.js';
import { ProgressReporter } from './recovery/progress.js';
import { blameSkippedRoot } from './recovery/skipped_root.js';
import { Engine } from './txn/engine.js';
import { DiscardSink } from './txn/sink.js';
import { checkOptionKeys } from './options.js';
import { CURSORS_NAME, decodeCursors } from './feed/cursors.js';
import { Findings } from './verify_findings.js';
import { checkPairs } from './verify_pairs.js';
import type { VerifyOptions, VerifyReport } from './verify_report.js';
import {
  checkSegmentHeader,
  contentDigest,
  decodingVisitor,
  fileNamed,
  LOCK_NAME,
  lockFinding,
  messageOf,
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
  private readonly findings = new Findings();
  private readonly names: string[];
  private root: RootBody | null = null;
  private rootName: string | null = null;
  /** Roots newer than the chosen one that do not verify, as readNewestRoot reports them. */
  private readonly skipped: NewestRoot['skipped'] = [];

  constructor(
    private readonly dir: string,
    private readonly layer: FileLayer,
  ) {
    this.names = layer.list(dir).sort();
  }

  async run(): Promise<VerifyReport> {
    this.checkLock();
    this.checkCursors();
    this.checkRoots();
    const root = this.root;
    const pairsHold =
      root === null ||
      checkPairs({
        dir: this.dir,
        layer: this.layer,
        names: this.names,
        findings: this.findings,
        root,
        rootName: this.rootName!,
      });
    const loaded = pairsHold ? await this.load() : null;
    this.checkFreeSegments();
    this.classifyRest();
    const findings = this.findings;
    findings.demoteTolerated(this.rootName);
    const files = this.names.map((file) => findings.describe(this.layer, this.dir, file));
    return {
      ok: findings.problems.length === 0,
      dir: this.dir,
      root: this.rootName,
      problems: findings.problems,
      warnings: findings.warnings,
      files,
      tables: loaded?.tables ?? null,
      digest: loaded?.digest ?? null,
      checkpointTs: this.root?.checkpointTs ?? 0,
      lastCommitTs: loaded?.lastCommitTs ?? 0,
    };
  }

  private checkLock(): void {
    if (!this.names.includes(LOCK_NAME)) return;
    this.findings.roles.set(LOCK_NAME, 'other');
    const text = this.findings.attempt(LOCK_NAME, 'LOCK_MALFORMED', () => {
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
    if (finding.code === 'LOCK_MALFORMED') this.findings.add(finding.code, LOCK_NAME, 0, finding.message);
    else this.findings.warn(finding.code, LOCK_NAME, null, finding.message);
  }

  /** The cursors file, if there is one, as open() reads it (feed/cursors.ts). */
  private checkCursors(): void {
    if (!this.names.includes(CURSORS_NAME)) return;
    this.findings.roles.set(CURSORS_NAME, 'other');
    this.findings.attempt(CURSORS_NAME, 'CURSORS_INVALID', () =>
      decodeCursors(readFile(this.layer, join(this.dir, CURSORS_NAME)), join(this.dir, CURSORS_NAME)),
    );
  }

  /** Every root, newest first; the newest that verifies is the one open() loads. */
  private checkRoots(): void {
    const seqs = this.names
      .map((name) => ({ name, seq: rootSeq(name) }))
      .filter((r) => r.seq >= 0)
      .sort((a, b) => b.seq - a.seq);
    for (const { name, seq } of seqs) {
      const root = this.findings.attempt(name, 'ROOT_INVALID', () =>
        decodeRoot(readFile(this.layer, join(this.dir, name)), join(this.dir, name), seq),
      );
      this.findings.roles.set(name, this.root === null && root !== null ? 'current' : 'previous');
      if (root === null && this.root === null)
        this.skipped.push({ file: join(this.dir, name), reason: this.findings.lastProblemMessage() });
      if (root !== null && this.root === null) {
        this.root = root;
        this.rootName = name;
      }
    }
    if (seqs.length > 0 && this.root === null)
      this.findings.add(
        'NO_ROOT',
        null,
        null,
        `${this.dir}: root files exist but none verifies, so open() cannot find the checkpoint`,
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
      const loaded = await this.findings.attemptAsync(this.rootName!, 'CHECKPOINT_INVALID', () =>
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
    const position = this.findings.attempt(root === null ? null : segmentName(root.wal.seq), 'WAL_INVALID', () => {
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
      if (seq >= (root?.wal.seq ?? 0)) this.findings.roles.set(segmentName(seq), 'current');
    if (position === null) {
      this.checkSegmentHeaders(root?.wal.seq ?? 0);
      return null;
    }
    if (position.tornTail !== null) {
      const file = fileNamed(position.tornTail.file);
      this.findings.warn(
        'WAL_TORN_TAIL',
        file,
        position.tornTail.offset,
        `${file}: the WAL ends in a bad batch at offset ${position.tornTail.offset} with nothing valid after it (a write cut short by a crash); open() cuts it there`,
      );
    }
    return {
      tables: engine.tables.filter((t) => !t.dropped).map((t) => ({ name: t.name, rows: t.liveRows })),
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
      if (seq < first || this.findings.problems.some((p) => p.file === name)) continue;
      this.findings.attempt(name, 'WAL_INVALID', () => checkSegmentHeader(this.layer, this.dir, seq));
    }
  }

  /** Segments before the checkpoint: never read by open(), rewritten when recycled; a bad header is a warning. */
  private checkFreeSegments(): void {
    const first = this.root?.wal.seq ?? 0;
    for (const seq of listSegments(this.layer, this.dir)) {
      if (seq >= first) continue;
      const name = segmentName(seq);
      this.findings.roles.set(name, 'free');
      try {
        checkSegmentHeader(this.layer, this.dir, seq);
      } catch (error) {
        this.findings.warn('FREE_SEGMENT_INVALID', name, offsetIn(error), messageOf(error));
      }
    }
  }

  /** Pair files no root names, temp files, unknown names. */
  private classifyRest(): void {
    for (const name of this.names) {
      if (this.findings.roles.has(name)) continue;
      if (parseCfpFileName(name) !== null || TEMP_PATTERN.test(name)) {
        this.findings.roles.set(name, 'leftover');
        this.findings.warn(
          'LEFTOVER_FILE',
          name,
          null,
          `${name}: left by unfinished work (no root loads it); open() removes it`,
        );
      } else if (segmentSeq(name) < 0 && rootSeq(name) < 0) {
        // open() leaves such a file alone, so it is no reason to refuse the directory.
        this.findings.roles.set(name, 'other');
        this.findings.warn('UNKNOWN_FILE', name, null, `${name}: not a file the engine makes; open() leaves it alone`);
      }
    }
    for (const [name, role] of this.findings.roles) {
      if (role !== 'leftover' || parseCfpFileName(name) === null || this.findings.warnings.some((w) => w.file === name))
        continue;
      this.findings.warn(
        'LEFTOVER_FILE',
        name,
        null,
        `${name}: a pair the root names as MERGE_TARGET or TOMBSTONE; open() removes it`,
      );
    }
  }
}
