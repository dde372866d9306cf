// The Node benchmark as one self-contained program, for a machine with a GPU
// but no Node.js or registry: bundled by bench/gpu/vite.config.ts, shipped by
// bench/gpu/pack.sh with a Node binary and dawn.node, run by run-on-device.sh.
// Writes the same report JSON as bench/run.mjs; render its table and chart here
// with `npm run bench -- --render results/<name>.json`.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { benchConfigs, DEFAULT_OPTIONS, type ConfigResult } from '../core';
import { createNodeHost } from '../node';

const args = process.argv.slice(2);
const out = args.find((a) => a.endsWith('.json')) ?? 'gpu.json';
const quick = args.includes('--quick');
const options = { ...DEFAULT_OPTIONS, gemmPhases: !args.includes('--no-gemm') };
const peakAt = args.indexOf('--peak-gflops');
const peakGflops = peakAt >= 0 ? Number(args[peakAt + 1]) : undefined;

const host = createNodeHost();
const info = await host.init();
const started = Date.now();
const configs = benchConfigs(quick);
const report = {
  runtime: 'node',
  adapter: info.adapter,
  tfjsBackend: info.tfjsBackend,
  browser: null,
  node: process.version,
  code: process.env.BENCH_CODE ?? 'packed',
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
  date: new Date().toISOString(),
  quick,
  options,
  flopsPerUpdate: '2·B·V·H·(2k + 3): hidden passes 2BVH·(1+k), visible passes 2BVH·k, weight gradient 2·(2B)·V·H',
  ratios: "ours samples/s ÷ the other implementation's samples/s, measured in the same run (> 1: ours is faster)",
  configs: [] as ConfigResult[],
  totalSeconds: 0,
  ...(peakGflops ? { peakGflops } : {}),
};
console.log(`bench (packed): ${configs.length} configurations on ${info.adapter}`);
for (const c of configs) {
  const r = await host.run(c, options);
  report.configs.push(r);
  report.totalSeconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  const ours = r.results.ours;
  const gflops = ours?.status === 'ok' ? ours.gflops.toFixed(1) : '—';
  console.log(`${c.name}: ours ${gflops} GFLOP/s, ×${r.oursOverTfjs?.toFixed(2) ?? '—'} tfjs, ×${r.oursOverCpu?.toFixed(2) ?? '—'} CPU`);
}
console.log(`wrote ${out} (${report.totalSeconds} s)`);
process.exit(0);
