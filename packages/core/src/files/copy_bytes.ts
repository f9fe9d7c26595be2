/**
 * Copies src[from, from + length) to dst at `to`. The hot paths copy one
 * small record or row at a time (a commit into the log ring, a record into
 * a WAL batch, a row into a data block), millions of them. A plain loop
 * allocates nothing; `dst.set(src.subarray(…))` allocates a view per call.
 * Alone in a microbenchmark `set` is the faster copy, but in the engine the
 * garbage it leaves costs more: with it (this loop only below 16 bytes)
 * durable commits at 256 in flight fell from about 225 K to 190 K/s and the
 * streamer's GC time for 1 M inserts rose from 21 to 88 ms.
 */
const LOOP_BYTES = 128;

export function copyBytes(src: Uint8Array, from: number, length: number, dst: Uint8Array, to: number): void {
  if (length <= LOOP_BYTES) {
    for (let i = 0; i < length; i++) dst[to + i] = src[from + i]!;
  } else {
    dst.set(src.subarray(from, from + length), to);
  }
}
