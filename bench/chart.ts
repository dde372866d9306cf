// Grouped bar chart (uPlot) of GFLOP/s per configuration and implementation.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { IMPLS, type ConfigResult } from './core';

export interface ChartInput {
  title: string;
  configs: ConfigResult[];
}

const COLORS: Record<(typeof IMPLS)[number], string> = { ours: '#d9480f', tfjs: '#1971c2', cpu: '#868e96' };
const OFFSETS = [-0.27, 0, 0.27];

export function renderChart({ title, configs }: ChartInput): void {
  const el = document.getElementById('chart')!;
  el.replaceChildren();
  // One x slot per bar (null where another series' bar stands), so uPlot's bar
  // builder sizes the bars by the slot spacing and they stand side by side.
  const x: number[] = [];
  const ys: Array<Array<number | null>> = IMPLS.map(() => []);
  configs.forEach((r, g) => {
    IMPLS.forEach((_, s) => {
      x.push(g + OFFSETS[s]);
      IMPLS.forEach((name, t) => {
        const m = r.results[name];
        ys[t].push(s === t && m.status === 'ok' ? m.gflops : null);
      });
    });
  });
  const labels = configs.map(({ config: c, results }) => {
    const missing = IMPLS.filter((name) => results[name].status !== 'ok');
    return `${c.visible}×${c.hidden}\nB=${c.batch} k=${c.k}` + (missing.length ? `\n(no ${missing.join(', ')})` : '');
  });
  const bars = uPlot.paths.bars!({ size: [0.9, 60], align: 0 });
  new uPlot(
    {
      title,
      width: Math.max(640, 130 * configs.length + 120),
      height: 420,
      scales: { x: { time: false, range: [-0.6, configs.length - 0.4] }, y: { range: (_u, _min, max) => [0, max * 1.1] } },
      axes: [
        {
          splits: () => configs.map((_, g) => g),
          values: (_u, splits) => splits.map((g) => labels[g] ?? ''),
          size: 72,
        },
        { label: 'GFLOP/s (higher is faster)', size: 60 },
      ],
      series: [
        { label: 'configuration' },
        ...IMPLS.map((name) => ({
          label: name,
          stroke: COLORS[name],
          fill: COLORS[name],
          paths: bars,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : v.toFixed(3)),
        })),
      ],
      legend: { live: false },
    },
    [x, ...ys],
    el,
  );
}
