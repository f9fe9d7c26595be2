/**
 * Charts for the bench report, as SVG: a Vega-Lite spec compiled by
 * vega-lite and rendered by vega's headless View (no canvas, no browser).
 * Every chart is a plain function of the data, so the same figures always
 * give the same file.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One point of a series: x, y, and the series it belongs to (a peer and setting, a workload phase). */
export interface Point {
  x: number;
  y: number;
  series: string;
}

export interface LineChart {
  title: string;
  xTitle: string;
  yTitle: string;
  points: Point[];
  /** A log scale for x (in-flight commits 1 … 4096) and/or y (rates spanning orders of magnitude). */
  logX?: boolean;
  /** d3-format of the x labels; default ',' (1,000,000). */
  xFormat?: string;
  logY?: boolean;
}

/** Renders a Vega-Lite spec to an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Lines with points, one per series, with a legend. */
export function lineChartSpec(chart: LineChart): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 560,
    height: 320,
    background: 'white',
    data: { values: chart.points },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: chart.xTitle,
        axis: { format: chart.xFormat ?? ',' },
        scale: chart.logX ? { type: 'log', base: 2 } : { zero: false },
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: chart.yTitle,
        scale: chart.logY ? { type: 'log' } : { zero: true },
      },
      color: { field: 'series', type: 'nominal', title: null, legend: LEGEND },
    },
  };
}

/** Legend labels long enough for 'store (setting)'. */
const LEGEND = { labelLimit: 360 };

export interface BarChart {
  title: string;
  yTitle: string;
  /** One bar per label, grouped by series when several share a label. */
  bars: Array<{ label: string; value: number; series: string }>;
  /** A log scale for the values (figures spanning orders of magnitude). */
  logY?: boolean;
}

/**
 * Grouped bars: labels along x, one colour per series. With a log scale a
 * bar has no base to stand on, so the values are drawn as dots instead.
 */
export function barChartSpec(chart: BarChart): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: { step: 18 },
    height: 320,
    background: 'white',
    data: { values: chart.bars },
    mark: chart.logY ? { type: 'point', filled: true, size: 70 } : 'bar',
    encoding: {
      x: { field: 'label', type: 'nominal', title: null, axis: { labelAngle: -30, labelLimit: 320 } },
      xOffset: { field: 'series' },
      y: {
        field: 'value',
        type: 'quantitative',
        title: chart.yTitle,
        ...(chart.logY ? { scale: { type: 'log' } } : {}),
      },
      color: { field: 'series', type: 'nominal', title: null, legend: LEGEND },
    },
  };
}
