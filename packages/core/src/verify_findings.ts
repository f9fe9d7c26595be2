/**
 * What a verify run has found: problems (what open() fails on), warnings
 * (what open() repairs, loads past or leaves alone) and the role of every
 * file. A check runs through `attempt`, which turns the TidemarkError a
 * reader throws into a problem named after the file and offset it names.
 */
import { join } from 'node:path';
import { ErrorCode, TidemarkError } from './errors.js';
import type { FileLayer } from './files/file_layer.js';
import type { VerifiedFile, VerifyCode, VerifyProblem } from './verify_report.js';
import { firstFileNamed, kindOf, messageOf, missingCode, offsetIn } from './verify_support.js';

export class Findings {
  readonly problems: VerifyProblem[] = [];
  readonly warnings: VerifyProblem[] = [];
  readonly roles = new Map<string, VerifiedFile['role']>();
  /** Files with damage open() loads past (warnings now; see demoteTolerated). */
  private readonly damaged = new Set<string | null>();

  /** The message of the newest problem. */
  lastProblemMessage(): string {
    return this.problems[this.problems.length - 1]!.message;
  }

  /** Runs a check; a TidemarkError becomes a problem (named after the file its message names, else `file`). */
  attempt<T>(file: string | null, code: VerifyCode, check: () => T): T | null {
    try {
      return check();
    } catch (error) {
      this.fail(file, code, error);
      return null;
    }
  }

  async attemptAsync<T>(file: string | null, code: VerifyCode, check: () => Promise<T>): Promise<T | null> {
    try {
      return await check();
    } catch (error) {
      this.fail(file, code, error);
      return null;
    }
  }

  add(code: VerifyCode, file: string | null, offset: number | null, message: string): void {
    this.problems.push({ code, file, offset, message });
  }

  warn(code: VerifyCode, file: string | null, offset: number | null, message: string): void {
    this.warnings.push({ code, file, offset, message });
  }

  /**
   * Damage open() loads past becomes a warning, so that `ok` is exactly
   * whether open() loads the directory: a root that does not verify while
   * another is chosen (`rootName`; open skips it), a missing or damaged file
   * of a pre-created pair (it holds no rows; the streamer drops it and makes
   * another), a malformed LOCK (open takes it over).
   */
  demoteTolerated(rootName: string | null): void {
    const tolerated = (p: VerifyProblem): boolean =>
      p.code === 'LOCK_MALFORMED' ||
      (p.code === 'ROOT_INVALID' && rootName !== null) ||
      ((p.code === 'CFP_INVALID' || p.code === 'FILE_MISSING') &&
        p.file !== null &&
        this.roles.get(p.file) === 'unused');
    const kept = this.problems.filter((p) => !tolerated(p));
    for (const p of this.problems.filter(tolerated)) {
      this.damaged.add(p.file);
      this.warnings.push(
        p.code === 'ROOT_INVALID' ? { ...p, message: `${p.message}; open() skips it and loads ${rootName}` } : p,
      );
    }
    this.problems.splice(0, this.problems.length, ...kept);
  }

  describe(layer: FileLayer, dir: string, file: string): VerifiedFile {
    let sizeBytes = 0;
    try {
      sizeBytes = layer.size(join(dir, file));
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

  private fail(file: string | null, code: VerifyCode, error: unknown): void {
    const named = firstFileNamed(messageOf(error)) ?? file;
    if (!(error instanceof TidemarkError)) this.add('UNEXPECTED_ERROR', named, null, `${String(error)}`);
    else if (error.code === ErrorCode.IO_ERROR) this.add('IO_ERROR', named, null, error.message);
    else this.add(missingCode(error.message) ?? code, named, offsetIn(error), error.message);
  }
}
