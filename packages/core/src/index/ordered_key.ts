/**
 * Ordered-index keys as byte strings whose byte order (shorter first on a
 * common prefix) is the value order of compareKeys in ordered_index.ts, so
 * the tree compares bytes and keeps no value objects:
 *
 *   null / undefined   01
 *   number             02, float64 big-endian with the sign bit flipped
 *                      (all bits inverted for negatives); NaN one value
 *                      above +Infinity, -0 as 0
 *   bigint             03 01, int64 big-endian with the sign bit flipped;
 *                      a bound below int64 is 03 00, above it 03 02
 *   string             04, each UTF-16 code unit u as
 *                      u < 0x7f: u + 1;  u < 0x407f: 80|(v>>8), v&ff with
 *                      v = u - 0x7f;  else: c0, v>>8, v&ff with v = u - 0x407f;
 *                      then 00
 *   boolean            05 00 / 05 01
 *   bytes              06, each byte (00 as 00 ff), then 00 00
 *   other (json)       07, then its JSON text as a string above
 *   MIN (a bound)      nothing: the prefix sorts before all that extend it
 *   MAX (a bound)      ff: above every tag and every versionId's first byte
 *
 * An entry's key is its values followed by the versionId as 8 bytes
 * big-endian (below 2^53, so the first byte is 00).
 */

/** Sentinels for range bounds: below and above every value. */
export const MIN = Symbol('min');
export const MAX = Symbol('max');

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export class OrderedKeyWriter {
  buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  private at = 0;

  /** Writes an entry's key (values, then versionId); returns its length in `buf`. */
  entry(values: readonly unknown[], versionId: number): number {
    this.at = 0;
    for (const v of values) this.value(v);
    this.room(8);
    this.dv.setUint32(this.at, Math.floor(versionId / 2 ** 32));
    this.dv.setUint32(this.at + 4, versionId >>> 0);
    this.at += 8;
    return this.at;
  }

  /** A bound's key (values, possibly ending in MIN or MAX), as a new array. */
  bound(values: readonly unknown[]): Uint8Array {
    this.at = 0;
    for (const v of values) this.value(v);
    return this.buf.slice(0, this.at);
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.room(1 + 3 * v.length + 1);
        this.buf[this.at++] = 0x04;
        this.string(v);
        return;
      case 'bigint':
        this.bigint(v);
        return;
      case 'boolean':
        this.room(2);
        this.buf[this.at++] = 0x05;
        this.buf[this.at++] = v ? 1 : 0;
        return;
      case 'undefined':
        this.room(1);
        this.buf[this.at++] = 0x01;
        return;
    }
    if (v === MIN) return;
    if (v === MAX || v === null) {
      this.room(1);
      this.buf[this.at++] = v === MAX ? 0xff : 0x01;
    } else if (v instanceof Uint8Array) this.bytes(v);
    else {
      const text = typeof v === 'symbol' ? String(v) : (JSON.stringify(v) ?? '');
      this.room(1 + 3 * text.length + 1);
      this.buf[this.at++] = 0x07;
      this.string(text);
    }
  }

  private number(v: number): void {
    this.room(9);
    this.buf[this.at] = 0x02;
    const at = this.at + 1;
    this.dv.setFloat64(at, Number.isNaN(v) ? Number.NaN : v === 0 ? 0 : v);
    const buf = this.buf;
    if (buf[at]! & 0x80) for (let i = at; i < at + 8; i++) buf[i] = ~buf[i]! & 0xff;
    else buf[at] = buf[at]! ^ 0x80;
    this.at += 9;
  }

  private bigint(v: bigint): void {
    this.room(10);
    this.buf[this.at++] = 0x03;
    if (v < INT64_MIN || v > INT64_MAX) {
      this.buf[this.at++] = v < INT64_MIN ? 0x00 : 0x02;
      return;
    }
    this.buf[this.at++] = 0x01;
    this.dv.setBigInt64(this.at, v);
    this.buf[this.at] = this.buf[this.at]! ^ 0x80;
    this.at += 8;
  }

  /** The code units of `s` and a 00; room already made. */
  private string(s: string): void {
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) {
      const u = s.charCodeAt(i);
      if (u < 0x7f) buf[at++] = u + 1;
      else if (u < 0x407f) {
        const v = u - 0x7f;
        buf[at++] = 0x80 | (v >>> 8);
        buf[at++] = v & 0xff;
      } else {
        const v = u - 0x407f;
        buf[at++] = 0xc0;
        buf[at++] = v >>> 8;
        buf[at++] = v & 0xff;
      }
    }
    buf[at++] = 0;
    this.at = at;
  }

  private bytes(v: Uint8Array): void {
    this.room(1 + 2 * v.length + 2);
    const buf = this.buf;
    let at = this.at;
    buf[at++] = 0x06;
    for (let i = 0; i < v.length; i++) {
      const b = v[i]!;
      buf[at++] = b;
      if (b === 0) buf[at++] = 0xff;
    }
    buf[at++] = 0;
    buf[at++] = 0;
    this.at = at;
  }

  private room(more: number): void {
    if (this.at + more <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.at + more, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
    this.dv = new DataView(grown.buffer);
  }
}
