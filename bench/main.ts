// The bench page: exposes the benchmark host and the chart to the Playwright runner.
import { createHost, type BenchHost } from './core';
import { renderChart, type ChartInput } from './chart';

declare global {
  interface Window {
    bench: BenchHost;
    renderChart: (input: ChartInput) => void;
  }
}

window.bench = createHost(navigator.gpu, (line) => console.log(line));
window.renderChart = renderChart;
