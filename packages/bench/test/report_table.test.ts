/**
 * How the report writes a figure's ratio: two decimals, and three where two
 * would show the ratio target's own value beside a "NO" (or a "yes").
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { figureCells, formatRatio } from '../src/report/table.js';
import type { Figure, Target } from '../src/workload.js';

const atLeast = (value: number): Target => ({ on: 'ratio', compare: 'atLeast', value });

test('a ratio that two decimals would round onto its target shows three', () => {
  assert.is(formatRatio(0.8952, atLeast(0.9)), '0.895x');
  assert.is(formatRatio(0.9004, atLeast(0.9)), '0.900x');
  assert.is(formatRatio(1.2549, { on: 'ratio', compare: 'atMost', value: 1.25 }), '1.255x');
});

test('other ratios, the target itself, and untargeted ones show two', () => {
  assert.is(formatRatio(0.8912, atLeast(0.9)), '0.89x');
  assert.is(formatRatio(0.9, atLeast(0.9)), '0.90x');
  assert.is(formatRatio(0.8952), '0.90x');
  assert.is(formatRatio(0.8952, { on: 'tidemark', compare: 'atLeast', value: 0.9 }), '0.90x');
  assert.is(formatRatio(null, atLeast(0.9)), '-');
});

test("the report's row for a missed target shows the ratio that missed it", () => {
  const figure: Figure = {
    name: 'updates on vs off',
    unit: 'commits/s',
    tidemark: 229_145,
    baseline: 255_985,
    target: atLeast(0.9),
  };
  const { header, rows } = figureCells([figure]);
  const row = rows[0]!;
  assert.is(row[header.indexOf('ratio')], '0.895x');
  assert.is(row[header.indexOf('met?')], 'NO');
});

test.run();
