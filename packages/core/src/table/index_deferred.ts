/**
 * The changes commits make to an index while a deferred build computes its
 * entries (index_build.ts): instead of adding and removing entries, each
 * commit records the version it adds or retires here, and the build takes
 * them in later. Versions do not move while a build runs (it counts as an
 * open iterator), so a pointer recorded here still reads the same bytes
 * when the build gets to it, retired or not.
 */
import { SharedU32 } from './index_entries.js';

export class DeferredEntries {
  /** Versions added since the last take, in shared memory for the build's worker to read. */
  #adds = new SharedU32();
  /** Versions retired, in order. */
  readonly removes: number[] = [];

  add(ptr: number): void {
    this.#adds.push(ptr);
  }

  remove(ptr: number): void {
    this.removes.push(ptr);
  }

  /** Versions added since the last take. */
  get added(): number {
    return this.#adds.length;
  }

  /** The versions added since the last take (ptrs[0, count)); later adds start a new list. */
  take(): { ptrs: Uint32Array; count: number } {
    const taken = { ptrs: this.#adds.array, count: this.#adds.length };
    this.#adds = new SharedU32();
    return taken;
  }
}
