// Live line charts (uPlot) that grow as training runs.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  stroke: string;
  /** Draw dots (for sparse series such as per-epoch numbers). */
  points?: boolean;
  width?: number;
  dash?: number[];
}

export interface ChartSpec {
  xLabel: string;
  yLabel: string;
  series: SeriesSpec[];
  /** Format of y tick labels (default: decimals from the tick spacing). */
  yFormat?: (v: number) => string;
  height?: number;
}

/** Tick labels with as many decimals as the tick spacing needs (so 0.0235 and 0.0240 differ). */
function tickLabels(splits: number[], format?: (v: number) => string): string[] {
  if (format) return splits.map((v) => (v == null ? '' : format(v)));
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : Math.abs(splits[0] ?? 1);
  const decimals = step > 0 ? Math.min(6, Math.max(0, -Math.floor(Math.log10(step)))) : 2;
  return splits.map((v) => (v == null ? '' : v.toFixed(decimals)));
}

function countValues(ys: ArrayLike<number | null | undefined>, i0: number, i1: number): number {
  let n = 0;
  for (let i = i0; i <= i1 && n < 6; i++) if (ys[i] != null) n++;
  return n;
}

/** Keeps at most this many points per chart; older ones are thinned 2:1. */
const MAX_POINTS = 1500;

export class LiveChart {
  private readonly plot: uPlot;
  private xs: number[] = [];
  private ys: Array<Array<number | null>>;
  private dirty = false;
  private readonly resizeObserver: ResizeObserver;

  constructor(readonly container: HTMLElement, spec: ChartSpec) {
    this.ys = spec.series.map(() => []);
    const fmt = (v: number): string => String(+v.toPrecision(4));
    const opts: uPlot.Options = {
      width: Math.max(200, container.clientWidth),
      height: spec.height ?? 170,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: {
          time: false,
          // A single point would otherwise get a range from 0 to twice its x
          // (uPlot widens [x, x] itself before calling this, so look at the data).
          range: (u, min, max): uPlot.Range.MinMax => {
            const xs = u.data[0];
            return xs.length === 1 ? [xs[0] - 10, xs[0] + 10] : [min, max];
          },
        },
      },
      axes: [
        { label: spec.xLabel, labelSize: 18, size: 30, stroke: '#59636e', grid: { stroke: '#eceff3' }, ticks: { stroke: '#d0d7de' } },
        {
          label: spec.yLabel,
          labelSize: 18,
          size: 64,
          stroke: '#59636e',
          grid: { stroke: '#eceff3' },
          ticks: { stroke: '#d0d7de' },
          values: (_u, splits) => tickLabels(splits, spec.yFormat),
        },
      ],
      series: [
        { label: spec.xLabel, value: (_u, v) => (v == null ? '–' : String(Math.round(v))) },
        ...spec.series.map<uPlot.Series>((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: s.width ?? 2,
          dash: s.dash,
          spanGaps: true,
          // Dots for sparse series, and for any series while it has only a few points.
          points: { show: s.points ? true : (u, si, i0, i1) => countValues(u.data[si], i0, i1) < 6, size: 6, fill: s.stroke },
          value: (_u, v) => (v == null ? '–' : fmt(v)),
        })),
      ],
    };
    this.plot = new uPlot(opts, this.data(), container);
    this.resizeObserver = new ResizeObserver(() => {
      const w = Math.max(200, this.container.clientWidth);
      if (Math.abs(w - this.plot.width) > 1) this.plot.setSize({ width: w, height: this.plot.height });
    });
    this.resizeObserver.observe(container);
  }

  private data(): uPlot.AlignedData {
    return [this.xs, ...this.ys] as uPlot.AlignedData;
  }

  /** Adds a point (null where a series has no value at x); redrawn on the next flush. */
  push(x: number, values: Array<number | null>): void {
    const last = this.xs.length - 1;
    if (last >= 0 && this.xs[last] === x) {
      values.forEach((v, i) => {
        if (v !== null) this.ys[i][last] = v;
      });
    } else {
      this.xs.push(x);
      values.forEach((v, i) => this.ys[i].push(v));
    }
    if (this.xs.length > MAX_POINTS) this.thin();
    this.dirty = true;
  }

  /** Drops every other point of the older half, keeping any non-null sparse values. */
  private thin(): void {
    const keep = (i: number): boolean => i % 2 === 0 || i >= this.xs.length / 2 || this.ys.some((s) => s[i] !== null && s[i - 1] === null);
    const idx = this.xs.map((_, i) => i).filter(keep);
    this.xs = idx.map((i) => this.xs[i]);
    this.ys = this.ys.map((s) => idx.map((i) => s[i]));
  }

  /** Redraws if anything changed since the last flush. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.plot.setData(this.data());
  }

  clear(): void {
    this.xs = [];
    this.ys = this.ys.map(() => []);
    this.dirty = true;
    this.flush();
  }

  get length(): number {
    return this.xs.length;
  }

  last(series = 0): number | null {
    for (let i = this.xs.length - 1; i >= 0; i--) if (this.ys[series][i] !== null) return this.ys[series][i];
    return null;
  }

  values(series = 0): Array<number | null> {
    return this.ys[series].slice();
  }

  dispose(): void {
    this.resizeObserver.disconnect();
    this.plot.destroy();
  }
}
