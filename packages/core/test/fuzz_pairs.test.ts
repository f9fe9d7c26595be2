import fc from 'fast-check';
import { test } from 'uvu';
import { readDelta, scanCfp } from '../src/checkpoint/cfp_reader.js';
import { DATA_BLOCK_MAGIC, dataFileName, DELTA_BLOCK_MAGIC, deltaFileName } from '../src/checkpoint/cfp_format.js';
import { FILE_HEADER_BYTES } from '../src/files/file_header.js';
import { MemoryLayer } from './helpers/mutations.js';
import { applyEdits, DB_ID, DIR, edits, resealBlocks, RUNS, typed, validPair } from './helpers/fuzz.js';

test('data and delta files: edited files, checksums made right, give typed errors only', () => {
  const { files, cfp } = validPair();
  const row = { row() {}, blockEnd() {} };
  typed(() => scanCfp(new MemoryLayer(DIR, files), DIR, cfp, DB_ID, row));
  fc.assert(
    fc.property(edits, fc.boolean(), fc.boolean(), (list, onData, reseal) => {
      const name = onData ? dataFileName(1) : deltaFileName(1);
      let bytes = applyEdits(files.get(name)!, list, reseal ? FILE_HEADER_BYTES : 0);
      if (reseal) bytes = resealBlocks(bytes, onData ? DATA_BLOCK_MAGIC : DELTA_BLOCK_MAGIC);
      const edited = new Map(files).set(name, bytes);
      const entry = {
        ...cfp,
        dataLength: Math.min(cfp.dataLength, edited.get(dataFileName(1))!.length),
        deltaLength: Math.min(cfp.deltaLength, edited.get(deltaFileName(1))!.length),
      };
      typed(() => scanCfp(new MemoryLayer(DIR, edited), DIR, entry, DB_ID, row));
      typed(() => readDelta(new MemoryLayer(DIR, edited), DIR, entry, DB_ID));
    }),
    { numRuns: 3000 * RUNS },
  );
});

test.run();
