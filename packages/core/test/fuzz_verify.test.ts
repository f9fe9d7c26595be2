import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dataFileName, deltaFileName } from '../src/checkpoint/cfp_format.js';
import { encodeRoot, rootName } from '../src/checkpoint/root_format.js';
import { segmentName } from '../src/log/wal_format.js';
import { definitionFromJson } from '../src/schema/definition_json.js';
import { checkStoredDefinition } from '../src/schema/stored.js';
import { verify } from '../src/verify.js';
import { MemoryLayer, type Files } from './helpers/mutations.js';
import { applyEdits, DIR, edits, RUNS, typed, validPair, validRoot } from './helpers/fuzz.js';

test('stored table definitions: any JSON value gives a problem or a definition, never another exception', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue(),
        fc.record({
          name: fc.jsonValue(),
          columns: fc.array(fc.dictionary(fc.constantFrom('name', 'type', 'nullable', 'default'), fc.jsonValue())),
          primaryKey: fc.jsonValue(),
          indexes: fc.jsonValue(),
        }),
      ),
      (value) => {
        assert.type(checkStoredDefinition(value) ?? '', 'string');
        typed(() => definitionFromJson(value));
      },
    ),
    { numRuns: 3000 * RUNS },
  );
});

test('verify: a directory of arbitrary files (LOCK, roots, pairs, segments) reports problems, never throws', async () => {
  const { files: pair, cfp } = validPair();
  const root = encodeRoot(validRoot([cfp]));
  const names = fc.constantFrom('LOCK', rootName(3), dataFileName(1), deltaFileName(1), segmentName(0), 'junk');
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(names, fc.uint8Array({ maxLength: 200 })), { maxLength: 4 }),
      edits,
      async (extra, list) => {
        const files: Files = new Map([...pair, [rootName(3), applyEdits(root, list)]]);
        for (const [name, bytes] of extra) files.set(name, bytes);
        const report = await verify(DIR, { layer: new MemoryLayer(DIR, files) });
        assert.ok(!report.problems.some((p) => p.code === 'UNEXPECTED_ERROR'), JSON.stringify(report.problems));
      },
    ),
    { numRuns: 300 * RUNS },
  );
});

test.run();
