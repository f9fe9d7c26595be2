/**
 * Copies src[from, from + length) to dst at `to`. The hot paths copy one
 * small record or row at a time (a commit into the log ring, a record into
 * a WAL batch, a row into a data block): for those a plain loop is faster
 * than `dst.set(src.subarray(…))`, which allocates a view per call and so
 * feeds the garbage collector millions of them.
 */
const LOOP_BYTES = 128;

export function copyBytes(src: Uint8Array, from: number, length: number, dst: Uint8Array, to: number): void {
  if (length <= LOOP_BYTES) {
    for (let i = 0; i < length; i++) dst[to + i] = src[from + i]!;
  } else {
    dst.set(src.subarray(from, from + length), to);
  }
}
