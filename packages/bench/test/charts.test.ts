/**
 * The report's charts render to SVG on the server (vega-lite compiled, vega's
 * headless view): the document names its title, axes and every series.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { barChartSpec, lineChartSpec, renderSvg } from '../src/report/charts.js';

test('a line chart of throughput against commits in flight renders to SVG with its axes and series', async () => {
  const points = [1, 16, 256, 4096].flatMap((x) => [
    { x, y: 1000 * Math.log2(x + 1), series: 'tidemark durable' },
    { x, y: 300 * Math.log2(x + 1), series: 'sqlite synchronous=FULL' },
  ]);
  const svg = await renderSvg(
    lineChartSpec({
      title: 'Durable commits',
      xTitle: 'commits in flight',
      yTitle: 'commits/s',
      points,
      logX: true,
      logY: true,
      xFormat: ',.0f',
    }),
  );
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 40));
  for (const text of [
    'Durable commits',
    'commits in flight',
    'commits/s',
    'tidemark durable',
    'sqlite synchronous=FULL',
    '4,096',
  ])
    assert.ok(svg.includes(text), `the SVG shows "${text}"`);
  assert.ok((svg.match(/<path/g) ?? []).length >= 2, 'one line per series');
});

test('a grouped bar chart renders every label and series', async () => {
  const svg = await renderSvg(
    barChartSpec({
      title: 'p99 latency',
      yTitle: 'ms',
      bars: [
        { label: 'A', value: 3, series: 'x' },
        { label: 'A', value: 5, series: 'y' },
        { label: 'B', value: 2, series: 'x' },
      ],
    }),
  );
  for (const text of ['p99 latency', 'ms', 'A', 'B', 'x', 'y'])
    assert.ok(svg.includes(text), `the SVG shows "${text}"`);
});

test.run();
