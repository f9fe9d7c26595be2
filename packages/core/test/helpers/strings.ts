/**
 * Strings for the codec tests: every kind fast-check makes, long ones, and
 * the awkward cases (a BOM, lone surrogates), as the codec must take them.
 */
import fc from 'fast-check';

export const encoder = new TextEncoder();
/** Decodes as the codec must: a leading BOM is kept, bad bytes become U+FFFD. */
export const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Any UTF-16 code unit, lone surrogates included. */
export const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
export const stringArb = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'binary-ascii' }),
  fc.string({ unit: anyUnit }),
  fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 400 }),
  fc.constantFrom('', '\ufeffbom', 'a\ud800b', '\udc00'),
);
