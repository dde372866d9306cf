// Trajectory annealing (src/rbm/trajectory.ts): the GPU chains replayed in
// float64 with the same random numbers on odd sizes, the path arithmetic
// (log Z_0, a path that never leaves the base model, a segment between identical
// snapshots), input errors, and the estimate against exact log Z on a trained
// 784-16 model, next to temperature AIS at the same number of Gibbs sweeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { ais } from '../../src/rbm/ais';
import { exactLogZ } from '../../src/rbm/logz';
import { columnMeans } from '../../src/rbm/init';
import { loadBundledMnistNode } from '../../src/data/assets-node';
import { gatherRows, splitDataset } from '../../src/data/split';
import {
  reverseTrajectoryAis, trajectoryAis, trajectoryBaseLogZ, TrajectoryRecorder, type Trajectory,
} from '../../src/rbm/trajectory';
import { getKernel } from '../../src/gpu/kernels';
import { TRAJECTORY_KERNELS } from '../../src/gpu/trajectory-kernels';
import { UNITS } from '../../src/units';
import type { RBMParamsF32 } from '../../src/rbm/params';
import { cpuTrajectoryAIS } from '../reference/trajectory';
import { logZExact, softplus } from '../reference/exact';
import { testDevice, takeGPUErrors } from '../helpers/device';
import { mulberry32, randomBinary, randomNormal } from '../helpers/random';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});
afterAll(async () => {
  expect(await takeGPUErrors()).toEqual([]);
});

function randomParams(V: number, H: number, scale: number, rand: () => number): RBMParamsF32 {
  return { W: randomNormal(V * H, scale, rand), b: randomNormal(V, scale, rand), c: randomNormal(H, scale, rand) };
}

/** A made-up "training run": snapshots that drift from small random weights to larger ones. */
function driftingTrajectory(V: number, H: number, T: number, seed: number): Trajectory {
  const rand = mulberry32(seed);
  const start = randomParams(V, H, 0.1, rand);
  const end = randomParams(V, H, 1.2, rand);
  const snapshots: RBMParamsF32[] = [];
  for (let t = 0; t < T; t++) {
    const s = T === 1 ? 1 : t / (T - 1);
    const noise = randomParams(V, H, 0.05, rand);
    const mix = (a: Float32Array, b: Float32Array, n: Float32Array): Float32Array => a.map((x, e) => (1 - s) * x + s * b[e] + n[e]);
    snapshots.push({ W: mix(start.W, end.W, noise.W), b: mix(start.b, end.b, noise.b), c: mix(start.c, end.c, noise.c) });
  }
  const baseBiases = randomNormal(V, 0.5, rand);
  return { visible: V, hidden: H, baseBiases, snapshots };
}

describe('trajectory AIS on odd sizes', () => {
  const V = 7;
  const H = 5;
  const traj = driftingTrajectory(V, H, 3, 11);

  it('kernels compile and bind by name (Bernoulli and Gaussian weight kernels)', async () => {
    await getKernel(device, TRAJECTORY_KERNELS.lerp());
    for (const u of [UNITS.bernoulli, UNITS.gaussian]) await getKernel(device, TRAJECTORY_KERNELS.weight(u.wgsl));
  });

  it('log Z_0 of the base model is Σ softplus(b_A) + H log 2 (float64)', () => {
    let want = H * Math.LN2;
    for (const b of traj.baseBiases) want += softplus(b);
    expect(trajectoryBaseLogZ(traj)).toBeCloseTo(want, 10);
  });

  it('forward log-weights match the float64 replay with the same random numbers', async () => {
    const o = { runs: 13, stepsBetween: 4, seed: 77 };
    const gpu = await trajectoryAis(device, traj, { ...o, stepsPerSubmit: 5 });
    const cpu = cpuTrajectoryAIS(V, H, { ...o, baseBiases: traj.baseBiases, snapshots: traj.snapshots });
    expect(gpu.steps).toBe(12);
    expect(gpu.sweeps).toBe(11);
    for (let r = 0; r < o.runs; r++) expect(gpu.logWeights[r]).toBeCloseTo(cpu[r], 3);
  });

  it('reverse log-weights (start states, burn-in) match the float64 replay', async () => {
    const rand = mulberry32(5);
    const start = randomBinary(13 * V, 0.5, rand);
    const o = { runs: 13, stepsBetween: 3, seed: 9, burnIn: 4 };
    const gpu = await reverseTrajectoryAis(device, traj, { ...o, start, stepsPerSubmit: 7 });
    const cpu = cpuTrajectoryAIS(V, H, { ...o, baseBiases: traj.baseBiases, snapshots: traj.snapshots, start });
    expect(gpu.sweeps).toBe(4 + 9 - 1);
    for (let r = 0; r < o.runs; r++) expect(gpu.logWeights[r]).toBeCloseTo(cpu[r], 3);
    expect(gpu.logZ).toBeCloseTo(gpu.logZBase - Math.log(cpu.reduce((s, w) => s + Math.exp(w), 0) / o.runs), 3);
  });

  it('a path that never leaves the base model returns log Z_0 exactly, every weight 0', async () => {
    const base: RBMParamsF32 = { W: new Float32Array(V * H), b: traj.baseBiases.slice(), c: new Float32Array(H) };
    const r = await trajectoryAis(device, { ...traj, snapshots: [base, base] }, { runs: 9, stepsBetween: 3 });
    expect([...r.logWeights]).toEqual(new Array(9).fill(0));
    expect(r.logZ).toBe(trajectoryBaseLogZ(traj));
    expect(r.effectiveSampleSize).toBe(9);
  });

  it('a segment between identical snapshots adds exactly 0', async () => {
    const one = { ...traj, snapshots: traj.snapshots.slice(0, 2) };
    const twice = { ...traj, snapshots: [...traj.snapshots.slice(0, 2), traj.snapshots[1]] };
    const o = { runs: 11, stepsBetween: 5, seed: 3 };
    const a = await trajectoryAis(device, one, o);
    const b = await trajectoryAis(device, twice, o);
    expect([...b.logWeights]).toEqual([...a.logWeights]);
  });

  it('forward AIS along a 3-snapshot path: within 0.05 of exact log Z, its band holds it', async () => {
    const last = traj.snapshots[2];
    const exact = logZExact({ visible: V, hidden: H, W: last.W, b: last.b, c: last.c });
    const fwd = await trajectoryAis(device, traj, { runs: 400, stepsBetween: 20, seed: 2 });
    expect(Math.abs(fwd.logZ - exact)).toBeLessThan(0.05);
    expect(fwd.logZLow).toBeLessThanOrEqual(exact);
    expect(fwd.logZHigh).toBeGreaterThanOrEqual(exact);
  });
});

describe('trajectory AIS input errors', () => {
  const V = 5;
  const H = 3;
  const traj = driftingTrajectory(V, H, 2, 4);

  it('refuses an empty snapshot list, naming the fix', async () => {
    await expect(trajectoryAis(device, { ...traj, snapshots: [] })).rejects.toThrow(/no snapshots: record at least the model/);
  });

  it('refuses a snapshot of another size, naming which and the shape', async () => {
    const bad = { W: new Float32Array(V * (H + 1)), b: new Float32Array(V), c: new Float32Array(H + 1) };
    await expect(trajectoryAis(device, { ...traj, snapshots: [traj.snapshots[0], bad] })).rejects.toThrow(
      /snapshot 1: W must be a Float32Array of visible × hidden = 5 × 3 = 15 values, got 20; every snapshot must come from the same 5x3 model/,
    );
    const rec = new TrajectoryRecorder({ visible: V, hidden: H, visibleType: 'bernoulli' }, { marginals: new Array(V).fill(0.3) });
    expect(() => rec.add(bad)).toThrow(/snapshot 0: W must be/);
  });

  it('refuses non-finite parameters and base biases', async () => {
    const nan = { ...traj.snapshots[1], c: Float32Array.of(0, NaN, 0) };
    await expect(trajectoryAis(device, { ...traj, snapshots: [traj.snapshots[0], nan] })).rejects.toThrow(/snapshot 1 c/);
    await expect(trajectoryAis(device, { ...traj, baseBiases: Float32Array.of(0, 0, Infinity, 0, 0) })).rejects.toThrow(/baseBiases/);
  });

  it('refuses bad options, Potts layers and reverse starts of the wrong width', async () => {
    await expect(trajectoryAis(device, traj, { stepsBetween: 0 })).rejects.toThrow(/stepsBetween must be a positive integer/);
    await expect(trajectoryAis(device, traj, { runs: 2.5 })).rejects.toThrow(/runs must be a positive integer/);
    await expect(trajectoryAis(device, { ...traj, visibleType: 'potts' })).rejects.toThrow(/Bernoulli or Gaussian visible units/);
    await expect(reverseTrajectoryAis(device, traj, { start: new Float32Array(V + 1) })).rejects.toThrow(/rows × visible=5/);
    expect(() => new TrajectoryRecorder({ visible: V, hidden: H, visibleType: 'bernoulli' }, {})).toThrow(/training data \(data\) or its visible marginals/);
    await expect(trajectoryAis(device, traj, { stepsBetween: [3] })).rejects.toThrow(/one per segment \(2 for 2 snapshots/);
    await expect(trajectoryAis(device, traj, { allocate: 'adaptive', pilotRuns: 1 })).rejects.toThrow(/pilotRuns must be at least 2/);
    await expect(reverseTrajectoryAis(device, traj, { start: new Float32Array(V), allocate: 'adaptive' })).rejects.toThrow(/stepsPerSegment/);
  });
});

describe('trajectory AIS on a trained 784-16 model (exact log Z by enumeration)', () => {
  it('lands within 0.3 nats of exact log Z and its band holds it; temperature AIS at the same sweeps reported', async () => {
    const { images } = await loadBundledMnistNode();
    const n = 1000;
    const { train } = splitDataset(images.count, n, 1);
    const data = gatherRows(images.pixels, 784, train.subarray(0, n));
    const model = RBM.create(device, { visible: 784, hidden: 16, seed: 5, visibleMarginals: columnMeans(data, n, 784) });
    try {
      const rec = new TrajectoryRecorder(model, { data });
      await rec.record(model);
      // PCD-1, 6 epochs of 50 updates, a snapshot every 25 updates (each progress report).
      await model.fit(data, {
        ...LEGACY_FIT_OPTIONS, epochs: 6, batchSize: 20, learningRate: 0.01, momentum: 0.5, k: 1, persistent: true, chains: 20, seed: 2,
        updatesPerSubmit: 25, onProgress: () => void rec.record(model),
      });
      const trajectory = await rec.settled();
      expect(rec.length).toBeGreaterThanOrEqual(13);
      const exact = await exactLogZ(model);
      const runs = 100;
      const S = Math.round(300 / rec.length);
      const traj = await trajectoryAis(device, trajectory, { runs, stepsBetween: S, seed: 4, allocate: 'adaptive' });
      // Temperature AIS with as many Gibbs sweeps per run (K − 1).
      const temp = await ais(model, { data, runs, betas: traj.steps, seed: 4 });
      const show = (r: { logZ: number; logZLow: number; logZHigh: number; effectiveSampleSize: number }): string =>
        `${r.logZ.toFixed(3)} [${r.logZLow.toFixed(3)}, ${r.logZHigh.toFixed(3)}] ESS ${r.effectiveSampleSize.toFixed(1)}`;
      console.log(
        `784-16: exact log Z ${exact.toFixed(3)}; trajectory AIS (${rec.length} snapshots, ${traj.steps} steps, ${runs} runs) ${show(traj)}; ` +
          `temperature AIS (${traj.steps} βs) ${show(temp)}`,
      );
      expect(traj.stepsPerSegment.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(Math.abs(traj.logZ - exact)).toBeLessThan(0.3);
      expect(traj.logZLow).toBeLessThanOrEqual(exact);
      expect(traj.logZHigh).toBeGreaterThanOrEqual(exact);
      // Every prefix of the path is an AIS path of its own: the estimate at the last snapshot is the result.
      expect(traj.perSnapshot).toHaveLength(rec.length);
      expect(traj.perSnapshot[rec.length - 1].logZ).toBe(traj.logZ);
    } finally {
      model.dispose();
    }
  }, 600_000);
});
