/**
 * The `tidemark` command line against directories made here: every command's
 * output and exit status, a corrupted directory for `verify`, a round trip
 * of rows through export and import, and user errors printed as one line
 * with a code and no stack. Commands run in this process through runCli;
 * the built bin runs once to show the same from a shell.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { open, type TableDef } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { tempDirs } from './helpers/dirs.js';

const accounts: TableDef = {
  name: 'accounts',
  columns: [
    { name: 'id', type: 'int32' },
    { name: 'owner', type: 'string' },
    { name: 'balance', type: 'int64' },
    { name: 'score', type: 'float64', nullable: true },
    { name: 'blob', type: 'bytes', nullable: true },
  ],
  primaryKey: ['id'],
};

const dirs = tempDirs('tidemark-cli-');
test.after(() => dirs.cleanup());

/** 3,000 rows over small pairs, checkpointed, then 2,000 deleted: pairs in several states and a WAL tail. */
async function makeDatabase(): Promise<string> {
  const dir = dirs.make();
  const db = await open({ dir, dataFileSizeBytes: 64 * 1024, merges: false, tables: [accounts] });
  const t = db.table('accounts');
  db.transactionSync((tx) => {
    for (let i = 0; i < 3000; i++)
      tx.insert('accounts', {
        id: i,
        owner: `owner-${i}`,
        balance: BigInt(i) * 10_000_000_000_000n,
        score: i % 5 === 0 ? null : i / 3,
        blob: i % 2 === 1 ? new Uint8Array([i & 255, 7]) : null,
      });
  });
  await db.flush();
  await db.checkpoint();
  for (let i = 0; i < 2000; i += 100) {
    db.transactionSync((tx) => {
      for (let j = i; j < i + 100; j++) tx.delete('accounts', j);
    });
  }
  assert.is(t.size, 1000);
  await db.close();
  return dir;
}

test('inspect prints the root, the files, the pairs with live fractions and totals; --json parses', async () => {
  const dir = await makeDatabase();
  const text = await cli('inspect', dir);
  assert.is(text.status, 0, text.err);
  assert.match(text.out, /^root: root-[0-9a-f]{16} \(seq \d+\), checkpoint at commitTs/m);
  assert.match(text.out, /file\s+pair\s+kind\s+state\s+commits\s+size\s+used\s+rows\s+tombstones/);
  assert.match(text.out, /data-0{15}1\s+1\s+data\s+ACTIVE/);
  assert.match(text.out, /^totals: data /m);
  const json = await cli('inspect', dir, '--json');
  const report = JSON.parse(json.out);
  assert.ok(report.pairs.length >= 2);
  assert.ok(
    report.pairs.some((p: { liveFraction: number }) => p.liveFraction < 1),
    'deletes show in the live fraction',
  );
  assert.is(report.root.tables[0].name, 'accounts');
});

test('verify: 0 and ok on a sound directory, 1 naming file and offset on a damaged one', async () => {
  const dir = await makeDatabase();
  const good = await cli('verify', dir);
  assert.is(good.status, 0, good.out);
  assert.match(good.out, /^ok: .*accounts 1,000 rows/m);
  const data = readdirSync(dir).find((f) => f === 'data-0000000000000001')!;
  const bytes = readFileSync(join(dir, data));
  bytes[bytes.length >> 1]! ^= 0xff;
  writeFileSync(join(dir, data), bytes);
  const bad = await cli('verify', dir);
  assert.is(bad.status, 1);
  assert.match(bad.out, /^problem: data-0000000000000001 at offset [\d,]+: .*\[[A-Z_]+\]$/m);
  assert.match(bad.out, /^FAILED: /m);
  const json = await cli('verify', dir, '--json');
  assert.is(json.status, 1);
  assert.is(JSON.parse(json.out).ok, false);
});

test('checkpoint, merge and recover open, act, close and say what they did', async () => {
  const dir = await makeDatabase();
  const checkpoint = await cli('checkpoint', dir);
  assert.is(checkpoint.status, 0, checkpoint.err);
  assert.match(checkpoint.out, /^checkpoint: published root-[0-9a-f]{16}|^checkpoint: nothing changed/m);
  assert.match(checkpoint.out, /^files added: /m);
  const merge = await cli('merge', dir);
  assert.is(merge.status, 0, merge.err);
  assert.match(merge.out, /^merge: pairs [\d, ]+ -> \d+: [\d,]+ rows kept/m, 'two thirds deleted: the old pairs merge');
  assert.match(merge.out, /^pairs: \d+ -> \d+; bytes on disk/m);
  const recover = await cli('recover', dir, '--workers', '1');
  assert.is(recover.status, 0, recover.err);
  assert.match(recover.out, /^recovered .* in [\d.]+ s: 1,000 rows in 1 table/m);
  assert.match(recover.out, /checkpoint: \d+ pairs with 1 worker/);
  assert.match(recover.err, /checkpoint \(1 workers\): [\d,]+ of [\d,]+ bytes, done/, 'progress per phase');
  const badWorkers = await cli('recover', dir, '--workers', 'many');
  assert.is(badWorkers.status, 2, 'a usage mistake');
  assert.match(badWorkers.err, /--workers must be an integer from 0 to 64, not "many"/);
});

test('export then import gives back the same rows; CSV imports; a bad row stops the import at its line', async () => {
  const dir = await makeDatabase();
  const file = join(dirs.make(), 'accounts.ndjson');
  const exported = await cli('export', dir, 'accounts', '--out', file);
  assert.is(exported.status, 0, exported.err);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.is(lines.length, 1000);
  const big = lines.map((l) => JSON.parse(l)).find((r) => r.id === 2999);
  assert.is(big.balance, '29990000000000000', 'int64 beyond 2^53 as a string of digits');
  const schema = join(dirs.make(), 'accounts.json');
  writeFileSync(schema, JSON.stringify(accounts));
  const copy = dirs.make();
  const imported = await cli('import', copy, 'accounts', file, '--schema', schema, '--batch', '300');
  assert.is(imported.status, 0, imported.err);
  assert.match(imported.err, /imported 1,000 rows into accounts/);
  const original = await cli('verify', dir);
  const again = await cli('verify', copy);
  const digest = (out: string): string => /digest ([0-9a-f]+)/.exec(out)![1]!;
  assert.is(digest(again.out), digest(original.out), 'the same contents');
  const csv = join(dirs.make(), 'more.csv');
  writeFileSync(csv, 'id,owner,balance,score\n5000,"csv, quoted",12,1.5\n5001,csv-b,-3,\n');
  const fromCsv = await cli('import', copy, 'accounts', csv);
  assert.is(fromCsv.status, 0, fromCsv.err);
  const badCsv = join(dirs.make(), 'bad.csv');
  writeFileSync(badCsv, 'id,owner,balance\n6000,a,1\n6001,b,notanumber\n');
  const bad = await cli('import', copy, 'accounts', badCsv);
  assert.is(bad.status, 1);
  assert.match(bad.err, /bad\.csv line 3: column "balance" \(int64\): expected an integer.*\[TM_SCHEMA_VIOLATION\]$/m);
  assert.not.match(bad.err, /\n\s+at /, 'no stack');
  const duplicate = await cli('import', copy, 'accounts', csv);
  assert.is(duplicate.status, 1);
  assert.match(duplicate.err, /\[TM_DUPLICATE_KEY\]$/m);
  const db = await open({ dir: copy });
  try {
    const t = db.table('accounts');
    assert.is(t.size, 1002, 'neither bad import wrote a row');
    assert.equal(t.get(5000), { id: 5000, owner: 'csv, quoted', balance: 12n, score: 1.5, blob: null });
    assert.is(t.get(6000), undefined, "the bad row's batch is not written");
  } finally {
    await db.close();
  }
  const upsert = await cli('import', copy, 'accounts', csv, '--upsert');
  assert.is(upsert.status, 0, upsert.err);
});

test('rows that do not fit their column are refused, never stored as another value; -0 and bytes round-trip', async () => {
  const dir = dirs.make();
  const db = await open({ dir, tables: [accounts] });
  await db.table('accounts').insert({ id: 1, owner: 'z', balance: 1n, score: -0, blob: new Uint8Array([0, 255, 7]) });
  await db.close();
  const file = join(dirs.make(), 'one.ndjson');
  assert.is((await cli('export', dir, 'accounts', '--out', file)).status, 0);
  assert.is(readFileSync(file, 'utf8'), '{"id":1,"owner":"z","balance":1,"score":"-0","blob":"AP8H"}\n');
  const copy = dirs.make();
  const schema = join(dirs.make(), 'accounts.json');
  writeFileSync(schema, JSON.stringify(accounts));
  assert.is((await cli('import', copy, 'accounts', file, '--schema', schema)).status, 0);
  const bad = join(dirs.make(), 'bad.ndjson');
  const refused = async (line: string, pattern: RegExp): Promise<void> => {
    writeFileSync(bad, `${line}\n`);
    const run = await cli('import', copy, 'accounts', bad);
    assert.is(run.status, 1, line);
    assert.match(run.err, pattern);
  };
  await refused('{"id":2,"owner":"a","balance":12345678901234567890}', /beyond 2\^53 must be written as a string/);
  await refused('{"id":3,"owner":"a","balance":1,"blob":"not base64!"}', /expected base64/);
  await refused('{"id":4,"owner":"a","balance":"1.5"}', /expected an integer or a string of digits/);
  const csv = join(dirs.make(), 'broken.csv');
  writeFileSync(csv, 'id,owner,balance\n5,"unclosed,1\n');
  const broken = await cli('import', copy, 'accounts', csv);
  assert.is(broken.status, 1);
  assert.match(broken.err, /broken\.csv.*not CSV as expected.*\[TM_SCHEMA_VIOLATION\]/);
  const back = await open({ dir: copy });
  try {
    const row = back.table('accounts').get(1)!;
    assert.ok(Object.is(row.score, -0), 'float64 -0 comes back as -0');
    assert.equal(row.blob, new Uint8Array([0, 255, 7]));
    assert.is(back.table('accounts').size, 1, 'no refused row was stored');
  } finally {
    await back.close();
  }
});

test('a path without a database is refused, not made into a new one', async () => {
  const missing = join(dirs.make(), 'no-such-db');
  for (const argv of [
    ['recover', missing],
    ['export', missing, 'accounts'],
    ['checkpoint', missing],
    ['merge', missing],
    ['inspect', missing],
    ['verify', missing],
  ]) {
    const run = await cli(...argv);
    assert.is(run.status, 1, argv.join(' '));
    assert.match(run.err, /^tidemark: no database at .*no-such-db: no such directory \[TM_NO_DATABASE\]$/);
  }
  assert.not.ok(existsSync(missing), 'nothing was created');
});

test('export into a pipe that closes early ends quietly', async () => {
  const dir = await makeDatabase();
  const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const run = spawnSync(
    'bash',
    ['-c', `set -o pipefail; "${process.execPath}" "${bin}" export "${dir}" accounts | head -n 1`],
    { encoding: 'utf8' },
  );
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout.trim().split('\n').length, 1);
  assert.not.match(run.stderr, /Error|\n\s+at /);
});

test('user errors: one line with a code and exit 1; usage mistakes exit 2; --help on every command', async () => {
  const dir = await makeDatabase();
  const unknown = await cli('export', dir, 'nope');
  assert.is(unknown.status, 1);
  assert.is(unknown.err, 'tidemark: no table named "nope" [TM_UNKNOWN_TABLE]');
  assert.is((await cli('bogus')).status, 2);
  assert.is((await cli('inspect')).status, 2);
  for (const command of ['inspect', 'verify', 'checkpoint', 'merge', 'recover', 'export', 'import']) {
    const help = await cli(command, '--help');
    assert.is(help.status, 0, command);
    assert.match(help.out, new RegExp(`^Usage: tidemark ${command} `, 'm'));
  }
  const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const run = spawnSync(process.execPath, [bin, 'inspect', join(dir, 'missing')], { encoding: 'utf8' });
  assert.is(run.status, 1);
  assert.match(run.stderr, /^tidemark: no database at .*missing: no such directory \[TM_NO_DATABASE\]\n$/);
});

test.run();
