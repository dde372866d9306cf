#!/usr/bin/env node
// Benchmark runner: `npm run bench` (headless Chromium, SwiftShader WebGPU) or
// `npm run bench:node` (Node, Dawn on lavapipe). Writes bench/results/<runtime>[-quick].{json,md,png}.
//
//   --node              run in Node through Dawn instead of Chromium
//   --quick             only the smallest configurations (also BENCH_QUICK=1)
//   --only <text>       only configurations whose name contains <text>
//   --target-s <s>      seconds per timed repeat (default 3)
//   --repeats <n>       timed repeats, median reported (default 3)
//   --max-update-s <s>  skip an implementation at a size where one update is predicted to take longer (default 90)
//   --no-gemm           skip the GEMM-phase timings (each kernel alone, plain vs subgroup tiles)
//   --peak-gflops <x>   the adapter's f32 peak, to report GEMM phases as a fraction of it
//   --no-placement      skip the data-placement benchmark (resident vs sharded vs streamed training set, bench/placement.ts)
//   --placement-only    only the data-placement benchmark (→ results/<runtime>-placement.*)
//   --render <json>     only rewrite the .md and .png of an earlier run's results/<name>.json
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { chromium } from 'playwright';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    node: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: process.env.BENCH_QUICK === '1' },
    only: { type: 'string' },
    render: { type: 'string' },
    'target-s': { type: 'string' },
    repeats: { type: 'string' },
    'max-update-s': { type: 'string' },
    'no-gemm': { type: 'boolean', default: false },
    'peak-gflops': { type: 'string' },
    'no-placement': { type: 'boolean', default: false },
    'placement-only': { type: 'boolean', default: false },
  },
});
const runtime = args.node ? 'node' : 'chromium';
// Dawn in Node needs Mesa >= 25 lavapipe unless the caller chose a driver.
process.env.VK_ICD_FILENAMES ??= '/usr/share/vulkan/icd.d/lvp_icd.json';

const server = await createServer({
  root,
  logLevel: 'warn',
  appType: 'mpa',
  // Its own dependency cache: other Vite processes on this repo (tests, the demo) rewrite the shared one.
  cacheDir: 'node_modules/.vite-bench',
  // Other people edit src/ while this runs: no watcher, no reloads mid-benchmark.
  server: { host: '127.0.0.1', port: 5190, hmr: false, watch: null },
  optimizeDeps: {
    entries: ['bench/index.html'],
    include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', 'uplot'],
  },
});
await server.listen();
const base = `http://127.0.0.1:${server.httpServer.address().port}`;
const { CHROMIUM_PATH, CHROMIUM_WEBGPU_ARGS } = await server.ssrLoadModule('/vite.config.ts');
const core = await server.ssrLoadModule('/bench/core.ts');

const options = { ...core.DEFAULT_OPTIONS };
if (args['target-s']) options.targetRepeatS = Number(args['target-s']);
if (args.repeats) options.repeats = Number(args.repeats);
if (args['max-update-s']) options.maxUpdateS = Number(args['max-update-s']);
if (args['no-gemm']) options.gemmPhases = false;
const configs = args['placement-only'] ? [] : core.benchConfigs(args.quick).filter((c) => !args.only || c.name.includes(args.only));

let browser;
/** A page of the bench app, its console echoed here. */
async function openPage() {
  browser ??= await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_WEBGPU_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 600 } });
  page.on('console', (m) => console.log(`[chromium] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[chromium] page error: ${e.message}`));
  const ready = () => page.waitForFunction(() => window.bench !== undefined && window.renderChart !== undefined);
  await page.goto(`${base}/bench/index.html`);
  // With HMR off, a dependency re-optimization needs a manual reload.
  await ready().catch(async () => {
    await page.reload();
    await ready();
  });
  return page;
}

// The page is opened first in both runtimes (in Node only for the chart), so a failure shows early.
const page = await openPage();
const outDir = path.join(root, 'bench', 'results');
await mkdir(outDir, { recursive: true });
let name;
let report;
if (args.render) {
  // Only rewrite the table and chart of an earlier run.
  name = path.basename(args.render, '.json');
  report = JSON.parse(await readFile(args.render, 'utf8'));
  if (args['peak-gflops']) report.peakGflops = Number(args['peak-gflops']);
} else {
  name = `${runtime}${args['placement-only'] ? '-placement' : ''}${args.quick ? '-quick' : ''}`;
  report = await runSuite(name);
}
await writeFile(path.join(outDir, `${name}.md`), markdown(report));

// The chart: uPlot in the bench page, captured by Playwright.
const adapterShort = report.adapter.split(' / ').at(-1).replace(/\s*\(.*$/, '').slice(0, 60);
const title = `webgpu-rbm CD-k update, ${report.runtime} (${adapterShort})${report.quick ? ', quick' : ''}`;
// The chart shows the CD-k configurations (a --placement-only run has none: its table is the result).
if (report.configs.length) {
  await page.evaluate((input) => window.renderChart(input), { title, configs: report.configs });
  await page.locator('#chart').screenshot({ path: path.join(outDir, `${name}.png`) });
}
console.log(`wrote bench/results/${name}.{json,md${report.configs.length ? ',png' : ''}}; the suite took ${report.totalSeconds} s`);

await browser?.close();
await server.close();
// Dawn keeps handles open in Node; the report is written, so leave now.
process.exit(0);

async function runSuite(name) {
  let host;
  if (runtime === 'node') {
    host = (await server.ssrLoadModule('/bench/node.ts')).createNodeHost();
  } else {
    host = {
      init: () => page.evaluate(() => window.bench.init()),
      run: (c, o) => page.evaluate(([c, o]) => window.bench.run(c, o), [c, o]),
      placement: (q, r) => page.evaluate(([q, r]) => window.bench.placement(q, r), [q, r]),
    };
  }
  const started = Date.now();
  const info = await host.init();
  const report = {
    runtime,
    adapter: info.adapter,
    tfjsBackend: info.tfjsBackend,
    browser: runtime === 'chromium' ? `chromium ${browser.version()}` : null,
    node: process.version,
    code: codeVersion(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    date: new Date().toISOString(),
    quick: args.quick,
    options,
    flopsPerUpdate: '2·B·V·H·(2k + 3): hidden passes 2BVH·(1+k), visible passes 2BVH·k, weight gradient 2·(2B)·V·H',
    ratios: "ours samples/s ÷ the other implementation's samples/s, measured in the same run (> 1: ours is faster)",
    configs: [],
    totalSeconds: 0,
    ...(args['peak-gflops'] ? { peakGflops: Number(args['peak-gflops']) } : {}),
  };
  console.log(`bench ${name}: ${configs.length} configurations on ${info.adapter} (tfjs backend: ${info.tfjsBackend})`);
  for (const c of configs) {
    report.configs.push(await host.run(c, options));
    report.totalSeconds = Math.round((Date.now() - started) / 1000);
    await writeFile(path.join(outDir, `${name}.json`), JSON.stringify(report, null, 2) + '\n');
  }
  if (!args['no-placement']) {
    report.placement = await host.placement(args.quick, options.repeats);
    report.totalSeconds = Math.round((Date.now() - started) / 1000);
    await writeFile(path.join(outDir, `${name}.json`), JSON.stringify(report, null, 2) + '\n');
  }
  return report;
}

/** The commit the measured code comes from, '+dirty' when src/ or shaders/ have uncommitted changes. */
function codeVersion() {
  try {
    const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--', 'src', 'shaders') ? '+dirty' : '');
  } catch {
    return 'unknown';
  }
}

/** The GEMM-phase table: each kernel alone, best tile without and with subgroups. */
function gemmMarkdown(r) {
  const rows = r.configs.filter((c) => c.gemm);
  if (rows.length === 0) return [];
  const peak = r.peakGflops;
  const pct = (g) => (peak ? ` (${((100 * g) / peak).toFixed(1)} %)` : '');
  const t = (x) => (x ? `${x.tile}: ${x.ms.toPrecision(3)} ms, ${x.gflops.toFixed(2)} GFLOP/s${pct(x.gflops)}` : 'no subgroups on this adapter');
  const lines = [
    '## GEMM phases alone',
    '',
    'Each GEMM kernel of a CD update dispatched on its own at the configuration\'s shape (epilogue included):',
    'hidden = σ(V·W + c) on 2B stacked rows (2·2B·V·H FLOP), visible = σ(H·Wᵀ + b) on B rows (2·B·V·H),',
    'update = [V0; Vk]ᵀ·[P0; −Pk] into W (2·V·H·2B). The tuner\'s fastest tile without subgroups against its fastest',
    `subgroup tile (A shared by subgroupShuffle), alternating, median of 3 batches of dispatches${peak ? `; % of the stated f32 peak ${peak} GFLOP/s` : ''}.`,
    '',
    '| size | kernel | GFLOP | engine uses | best without subgroups | best with subgroups | subgroups speed-up |',
    '|---|---|--:|---|---|---|--:|',
  ];
  for (const c of rows) {
    const size = `${c.config.visible}x${c.config.hidden} B=${c.config.batch}`;
    if (!Array.isArray(c.gemm)) {
      lines.push(`| ${size} | — | | ${c.gemm.status}: ${c.gemm.reason} | | | |`);
      continue;
    }
    for (const g of c.gemm) {
      const speedup = g.subgroupSpeedup ? `${g.subgroupSpeedup.toFixed(2)}×` : '—';
      lines.push(`| ${size} | ${g.kernel} | ${(g.flops / 1e9).toFixed(3)} | ${g.chosen} | ${t(g.plain)} | ${t(g.subgroup)} | ${speedup} |`);
    }
  }
  lines.push('');
  return lines;
}

/** The data-placement table: the training loop's samples/s with the set resident, sharded and streamed. */
function placementMarkdown(r) {
  if (!r.placement?.length) return [];
  const where = (d) => (d.kind === 'resident' ? `${d.shards} buffer${d.shards > 1 ? 's' : ''}` : `2 blocks of ${d.blockRows} rows, ${d.blocksPerEpoch} per epoch`);
  const lines = [
    '## Training set resident, sharded, streamed',
    '',
    'The whole training loop (`model.fit`: gather, CD-k update, metrics, per-epoch readbacks; after upload and set-up) on the',
    'same random u8 data set (MNIST-like), median samples/s of the repeats (round-robin over the modes). Sharded: the',
    'set split over buffers (`maxShardBytes`); streamed: two blocks on the GPU refilled from host memory each epoch',
    '(`dataBudgetBytes`, docs/streaming.md). FLOP per update as above: 2·B·V·H·(2k + 3).',
    '',
    '| config | mode | data on the GPU | MB on the GPU | ms/update | samples/s | GFLOP/s | ÷ resident |',
    '|---|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const p of r.placement) {
    for (const run of p.runs) {
      const rel = run.samplesPerS / p.runs[0].samplesPerS;
      lines.push(
        `| ${p.config.name}, ${p.config.epochs} epochs | ${run.mode} | ${where(run.data)} | ${(run.data.gpuBytes / 1e6).toFixed(1)} | ` +
          `${run.msPerUpdate.toPrecision(3)} | ${run.samplesPerS.toFixed(0)} | ${run.gflops.toFixed(2)} | ${rel.toFixed(2)}× |`,
      );
    }
  }
  lines.push('');
  return lines;
}

function markdown(r) {
  const fmt = (x, digits) => (x >= 100 ? x.toFixed(0) : x.toPrecision(digits));
  const cell = (m) => (m.status === 'ok' ? `${fmt(m.msPerUpdate, 3)} | ${fmt(m.samplesPerS, 3)} | ${m.gflops.toFixed(2)}` : `${m.status} | | `);
  const ratio = (x) => (x === null ? '—' : `${x.toFixed(2)}×`);
  const lines = [
    `# CD-k update benchmark: ${r.runtime}${r.quick ? ' (quick)' : ''}`,
    '',
    `- Adapter: ${r.adapter}; tfjs backend: ${r.tfjsBackend}${r.browser ? `; ${r.browser}` : ''}; Node ${r.node}`,
    `- Machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB; ${r.date}; suite took ${r.totalSeconds} s` +
      (r.code ? `; code ${r.code}` : ''),
    `- FLOP per update: ${r.flopsPerUpdate}`,
    `- Each cell: median ms per update | samples/s | GFLOP/s. Ratios: ${r.ratios}.`,
    '',
    '| config | GFLOP/update | ours ms | ours samples/s | ours GFLOP/s | tfjs ms | tfjs samples/s | tfjs GFLOP/s | CPU ms | CPU samples/s | CPU GFLOP/s | ours/tfjs | ours/CPU |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...r.configs.map(
      (c) =>
        `| ${c.config.name} | ${(c.flopsPerUpdate / 1e9).toFixed(3)} | ${cell(c.results.ours)} | ${cell(c.results.tfjs)} | ` +
        `${cell(c.results.cpu)} | ${ratio(c.oursOverTfjs)} | ${ratio(c.oursOverCpu)} |`,
    ),
    '',
  ];
  const notes = r.configs.flatMap((c) =>
    Object.entries(c.results)
      .filter(([, m]) => m.status !== 'ok')
      .map(([impl, m]) => `- ${c.config.name}, ${impl}: ${m.status}: ${m.reason}`),
  );
  if (notes.length) lines.push('Not measured:', '', ...notes, '');
  lines.push(
    'Timing: a warm-up update (pipeline compilation), then repeats of n updates, each ended by one GPU sync',
    '(ours: queue.onSubmittedWorkDone; tfjs: data() of a scalar that depends on the last update), taken',
    'round-robin over the implementations. Software WebGPU adapters run on the CPU: absolute numbers say',
    'little about a real GPU, the same-run ratios more. See bench/README.md.',
    '',
    ...gemmMarkdown(r),
    ...placementMarkdown(r),
  );
  return lines.join('\n');
}
