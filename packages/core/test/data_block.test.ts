/**
 * A data block's entries as docs/FORMAT.md lays them out, whatever the
 * row's length and wherever it starts in its source: short rows are copied
 * a 32-bit word at a time, from any alignment, over zeroed padding.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BLOCK_HEADER_BYTES } from '../src/files/block.js';
import { DataBlockBuilder } from '../src/checkpoint/data_block.js';
import { dataEntryBytes, DATA_ENTRY_HEADER_BYTES } from '../src/checkpoint/cfp_format.js';

/** The entry as the format defines it, byte by byte. */
function expectedEntry(tableId: number, versionId: number, row: Uint8Array): Uint8Array {
  const out = new Uint8Array(dataEntryBytes(row.length));
  const v = new DataView(out.buffer);
  v.setUint16(0, tableId, true);
  v.setUint32(4, row.length, true);
  v.setFloat64(8, versionId, true);
  out.set(row, DATA_ENTRY_HEADER_BYTES);
  return out;
}

test('entries of rows 0 to 300 bytes long, from every alignment, are laid out exactly, padding zeroed', () => {
  const block = new DataBlockBuilder();
  // Dirty the block first: the padding must be written as zeros, not left as it was.
  block.bytes.fill(0xee);
  const source = new Uint8Array(4096);
  for (let i = 0; i < source.length; i++) source[i] = (i * 131 + 7) & 0xff;
  const expected: Uint8Array[] = [];
  let versionId = 1_000;
  for (let length = 0; length <= 300; length++) {
    const offset = (length * 13) % 8; // every alignment mod 8, in turn
    const row = source.subarray(offset, offset + length);
    block.addRow(length % 5, versionId, source, offset, length);
    expected.push(expectedEntry(length % 5, versionId, row));
    versionId += 3;
  }
  let at = BLOCK_HEADER_BYTES;
  for (const [i, want] of expected.entries()) {
    assert.equal(block.bytes.subarray(at, at + want.length), want, `entry ${i} (row of ${i} bytes)`);
    at += want.length;
  }
  assert.is(block.used, at - BLOCK_HEADER_BYTES);
  assert.is(block.count, expected.length);
});

test('rows from a second source buffer are read from that buffer', () => {
  const block = new DataBlockBuilder();
  const a = new Uint8Array(64).fill(1);
  const b = new Uint8Array(64).fill(2);
  block.addRow(1, 1, a, 3, 21);
  block.addRow(1, 2, b, 5, 21);
  const second = BLOCK_HEADER_BYTES + dataEntryBytes(21) + DATA_ENTRY_HEADER_BYTES;
  assert.equal([...block.bytes.subarray(second, second + 21)], new Array(21).fill(2));
});

test.run();
