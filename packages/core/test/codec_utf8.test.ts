// The UTF-8 helpers the codec writes and reads strings with, against
// TextEncoder/TextDecoder on any string and any bytes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { utf8Length, utf8Read, utf8Write } from '../src/schema/utf8.js';
import { decoder, encoder, stringArb } from './helpers/strings.js';

const utf8 = suite('utf8');

utf8('utf8Length/utf8Write/utf8Read agree with TextEncoder/TextDecoder', () => {
  fc.assert(
    fc.property(stringArb, fc.nat(16), (s, offset) => {
      const bytes = encoder.encode(s);
      assert.is(utf8Length(s), bytes.length);
      const u8 = new Uint8Array(offset + bytes.length + 4).fill(0xee);
      assert.is(utf8Write(s, u8, offset), bytes.length);
      assert.equal(u8.subarray(offset, offset + bytes.length), bytes);
      assert.is(u8[offset + bytes.length], 0xee, 'nothing written past the end');
      assert.is(utf8Read(u8, offset, bytes.length), decoder.decode(bytes));
    }),
    { numRuns: 2000 },
  );
});

utf8('utf8Read matches TextDecoder on arbitrary (even invalid) bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      assert.is(utf8Read(bytes, 0, bytes.length), decoder.decode(bytes));
    }),
    { numRuns: 2000 },
  );
});

utf8.run();

// ---------------------------------------------------------------- errors
