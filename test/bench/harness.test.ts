// The benchmark harness (bench/core.ts, bench/gemm.ts) on a tiny size in Node:
// all three implementations run and are timed, ratios and FLOP counts follow
// from the measurements, GEMM phases compare plain and subgroup tiles, and
// sizes predicted too slow are skipped with the reason.
import { describe, expect, it } from 'vitest';
import { cdkFlops, type BenchOptions, type ConfigResult, type Measurement } from '../../bench/core';
import { createNodeHost } from '../../bench/node';
import { gemmFlops, TILE_CANDIDATES } from '../../src/gpu/tune';
import { tileName } from '../../src/gpu/kernels';

const config = { name: 'tiny', visible: 37, hidden: 23, batch: 9, k: 1 };
const options: BenchOptions = { targetRepeatS: 0.05, repeats: 2, maxUpdateS: 90, maxUpdatesPerRepeat: 3, gemmPhases: true };

function ok(m: ConfigResult['results'][keyof ConfigResult['results']]): Measurement {
  expect(m.status, m.status === 'ok' ? '' : (m as { reason: string }).reason).toBe('ok');
  return m as Measurement;
}

describe('benchmark harness', () => {
  const host = createNodeHost();
  let first: ConfigResult;

  it('times ours, tfjs-webgpu and the CPU reference on the same Dawn adapter', async () => {
    const info = await host.init();
    expect(info.tfjsBackend).toBe('webgpu');
    first = await host.run(config, options);
    expect(first.flopsPerUpdate).toBe(2 * 9 * 37 * 23 * (2 * 1 + 3));
    expect(cdkFlops(config)).toBe(first.flopsPerUpdate);
    const [ours, tfjs, cpu] = [ok(first.results.ours), ok(first.results.tfjs), ok(first.results.cpu)];
    for (const m of [ours, tfjs, cpu]) {
      // One repeat where the warm-up alone exceeded a repeat's target (tfjs compiles per shape).
      expect([1, 2]).toContain(m.repeatMsPerUpdate.length);
      expect(m.msPerUpdate).toBeGreaterThan(0);
      expect(m.samplesPerS).toBeCloseTo((9 * 1000) / m.msPerUpdate, 6);
      expect(m.gflops).toBeCloseTo(first.flopsPerUpdate / m.msPerUpdate / 1e6, 9);
    }
    expect(first.oursOverTfjs).toBeCloseTo(ours.samplesPerS / tfjs.samplesPerS, 9);
    expect(first.oursOverCpu).toBeCloseTo(ours.samplesPerS / cpu.samplesPerS, 9);
  });

  it('times each GEMM phase alone, best plain tile against best subgroup tile', () => {
    const phases = first.gemm;
    expect(Array.isArray(phases), JSON.stringify(phases)).toBe(true);
    if (!Array.isArray(phases)) return;
    const names = new Set(TILE_CANDIDATES.map(tileName));
    expect(phases.map((p) => p.kernel)).toEqual(['hidden', 'visible', 'update']);
    for (const p of phases) {
      expect(p.flops).toBe(gemmFlops(p.kernel, { visible: 37, hidden: 23, batch: 9 }));
      expect(names.has(p.chosen)).toBe(true);
      expect(p.plain.tile.startsWith('subgroup')).toBe(false);
      // Both test adapters have subgroups.
      expect(p.subgroup?.tile.startsWith('subgroup')).toBe(true);
      expect(p.subgroupSpeedup).toBeCloseTo(p.plain.ms / p.subgroup!.ms, 9);
      expect(p.plain.gflops).toBeCloseTo(p.flops / p.plain.ms / 1e6, 9);
    }
  });

  it('skips implementations predicted to exceed maxUpdateS, saying why', async () => {
    const r = await host.run({ ...config, name: 'too slow', k: 10 }, { ...options, maxUpdateS: 1e-9 });
    for (const impl of ['ours', 'tfjs', 'cpu'] as const) {
      const m = r.results[impl];
      expect(m.status).toBe('skipped');
      expect(m.status === 'skipped' && m.reason).toMatch(/predicted .* s per update .* > maxUpdateS/);
    }
    expect(r.oursOverTfjs).toBeNull();
    expect(r.gemm).toBeUndefined();
  });
});
