// The evaluation kernels in headless Chromium (SwiftShader): small cases only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { exactLogZ } from '../../src/rbm/logz';
import { ais } from '../../src/rbm/ais';
import { pseudoLogLikelihood } from '../../src/rbm/monitors';
import { cpuAIS } from '../reference/ais';
import { aisSchedule, baseRateBiases } from '../../src/host/ais-math';
import { freeEnergyBatch, logZExact, softplus } from '../reference/exact';
import { DEFAULT_TILE } from '../../src/gpu/kernels';
import { testDevice } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';

let device: GPUDevice;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => models.forEach((m) => m.dispose()));

function randomModel(V: number, H: number, scale: number, seed: number): { m: RBM; p: Parameters<typeof logZExact>[0] } {
  const rand = mulberry32(seed);
  const params = { W: randomNormal(V * H, scale, rand), b: randomNormal(V, scale, rand), c: randomNormal(H, scale, rand) };
  const m = RBM.create(device, { visible: V, hidden: H, params });
  models.push(m);
  return { m, p: { visible: V, hidden: H, ...params } };
}

describe('evaluation kernels in the browser', () => {
  it.each([
    [14, 9],
    [7, 12],
  ])('exactLogZ matches float64 at %i x %i, also with large weights', async (V, H) => {
    for (const scale of [0.5, 20]) {
      const { m, p } = randomModel(V, H, scale, V + H);
      const cpu = logZExact(p);
      expect(Math.abs((await exactLogZ(m)) - cpu) / Math.max(1, Math.abs(cpu))).toBeLessThan(1e-6);
    }
  });

  it('AIS replays the float64 chains', async () => {
    const V = 11;
    const H = 7;
    const { m, p } = randomModel(V, H, 0.6, 5);
    const data = randomBinary(20 * V, 0.3, mulberry32(6));
    // An explicit tile skips the per-device tile tuning (slow on SwiftShader).
    const res = await ais(m, { data, betas: 30, runs: 5, seed: 2, tile: DEFAULT_TILE });
    const cpu = cpuAIS(p, {
      baseBiases: Float32Array.from(baseRateBiases(data, V)),
      betas: Float32Array.from(aisSchedule(30)),
      runs: 5,
      seed: 2,
    });
    for (let r = 0; r < 5; r++) expect(Math.abs(res.logWeights[r] - cpu[r])).toBeLessThan(2e-5);
  });

  it("pseudoLogLikelihood matches scikit-learn's formula in float64", async () => {
    const V = 10;
    const { m, p } = randomModel(V, 6, 0.8, 9);
    const data = randomBinary(8 * V, 0.5, mulberry32(10));
    const res = await pseudoLogLikelihood(m, data, { seed: 3 });
    const F = freeEnergyBatch(p, data, 8);
    for (let r = 0; r < 8; r++) {
      const flipped = data.slice(r * V, (r + 1) * V);
      const i = (res.flipped as Uint32Array)[r];
      flipped[i] = 1 - flipped[i];
      const cpu = -V * softplus(F[r] - freeEnergyBatch(p, flipped, 1)[0]);
      expect(Math.abs(res.perRow[r] - cpu)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu)));
    }
  });
});
