// Measurements behind docs/results.md "Trajectory annealing" (not a check, so not in
// `npm test`; run one with `TRAJECTORY_MEASURE=<mode> npx vitest run --project measure`,
// see vite.config.ts; prints a table):
//   TRAJECTORY_MEASURE=exact  784-20 models (exact log Z): trajectory AIS (even and adaptive
//                             steps) vs temperature AIS at equal Gibbs sweeps, 3 seeds per budget
//   TRAJECTORY_MEASURE=thin   a 784-16 model (exact log Z): the same step budget along all
//                             snapshots, thinned ones, and the straight line base → final
//   TRAJECTORY_MEASURE=large  a 784-500 model: trajectory forward / reverse vs the temperature
//                             forward / reverse AIS bracket; writes /tmp/traj-784-500.safetensors
import { writeFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { RBM } from '../src/rbm/model';
import { ais, reverseAis } from '../src/rbm/ais';
import { exactLogZ } from '../src/rbm/logz';
import { columnMeans } from '../src/rbm/init';
import { loadBundledMnistNode } from '../src/data/assets-node';
import { gatherRows, splitDataset } from '../src/data/split';
import { reverseTrajectoryAis, trajectoryAis, TrajectoryRecorder, type Trajectory } from '../src/rbm/trajectory';
import type { FitOptions } from '../src/rbm/fit';
import { testDevice } from '../test/helpers/device';

const MODE = process.env.TRAJECTORY_MEASURE ?? '';

async function digits(n: number): Promise<Float32Array> {
  const { images } = await loadBundledMnistNode();
  const { train } = splitDataset(images.count, n, 1);
  return gatherRows(images.pixels, 784, train.subarray(0, n));
}

/** Trains a fresh model, a snapshot at the start and every `updatesPerSubmit` updates. */
async function trainRecorded(
  device: GPUDevice, data: Float32Array, hidden: number, fit: FitOptions,
): Promise<{ model: RBM; trajectory: Trajectory; seconds: number }> {
  const n = data.length / 784;
  const model = RBM.create(device, { visible: 784, hidden, seed: 5, visibleMarginals: columnMeans(data, n, 784) });
  const rec = new TrajectoryRecorder(model, { data });
  await rec.record(model);
  const t0 = performance.now();
  await model.fit(data, { ...fit, onProgress: () => void rec.record(model) });
  const trajectory = await rec.settled();
  return { model, trajectory, seconds: (performance.now() - t0) / 1000 };
}

const f = (x: number, d = 3): string => x.toFixed(d);

describe.runIf(MODE === 'exact')('trajectory vs temperature AIS on 784-20 (exact log Z)', () => {
  it('measures', async () => {
    const device = await testDevice();
    const data = await digits(2000);
    const runs = [
      { name: 'smooth: PCD-1, lr 0.01, momentum 0.5, 10 epochs', fit: { epochs: 10, batchSize: 20, learningRate: 0.01, momentum: 0.5, k: 1, persistent: true, chains: 20, centered: false, seed: 2, updatesPerSubmit: 50 } },
      { name: 'rough: PCD-1, lr 0.05, momentum hinton (0.9 after epoch 5), 8 epochs', fit: { epochs: 8, batchSize: 20, learningRate: 0.05, momentum: 'hinton' as const, k: 1, persistent: true, chains: 20, centered: false, seed: 2, updatesPerSubmit: 50 } },
    ];
    for (const r of runs) {
      const { model, trajectory, seconds } = await trainRecorded(device, data, 20, r.fit);
      const t0 = performance.now();
      const exact = await exactLogZ(model);
      console.log(`\n## ${r.name}: ${trajectory.snapshots.length} snapshots, training ${f(seconds, 1)} s; exact log Z ${f(exact)} (${f((performance.now() - t0) / 1000, 1)} s)`);
      console.log('| steps K | method | mean |error| | max |error| | mean ESS | band holds exact | mean s |');
      const T = trajectory.snapshots.length;
      for (const K of [100, 300, 1000]) {
        const S = Math.max(1, Math.round(K / T));
        for (const method of ['temperature', 'trajectory even', 'trajectory adaptive'] as const) {
          const errs: number[] = [];
          const ess: number[] = [];
          const secs: number[] = [];
          let holds = 0;
          for (const seed of [1, 2, 3]) {
            const e = method === 'temperature'
              ? await ais(model, { data, runs: 100, betas: S * T, seed })
              : await trajectoryAis(device, trajectory, { runs: 100, stepsBetween: S, seed, allocate: method === 'trajectory even' ? 'even' : 'adaptive' });
            errs.push(e.logZ - exact);
            ess.push(e.effectiveSampleSize);
            secs.push(e.seconds + ('pilotSeconds' in e ? e.pilotSeconds : 0));
            if (e.logZLow <= exact && exact <= e.logZHigh) holds++;
          }
          const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
          console.log(`| ${S * T} | ${method} | ${f(mean(errs.map(Math.abs)))} | ${f(Math.max(...errs.map(Math.abs)))} | ${f(mean(ess), 1)} | ${holds}/3 | ${f(mean(secs), 1)} |`);
        }
      }
      model.dispose();
    }
  }, 3_600_000);
});

describe.runIf(MODE === 'large')('trajectory AIS on 784-500 vs the temperature AIS bracket', () => {
  it('measures', async () => {
    const device = await testDevice();
    const data = await digits(2000);
    const fit = { epochs: 5, batchSize: 20, learningRate: 0.01, momentum: 0.5, k: 1, persistent: true, chains: 20, centered: false, seed: 2, updatesPerSubmit: 50 };
    const { model, trajectory, seconds } = await trainRecorded(device, data, 500, fit);
    writeFileSync('/tmp/traj-784-500.safetensors', await model.toSafetensors({}));
    console.log(`\n784-500, ${trajectory.snapshots.length} snapshots, training ${f(seconds, 1)} s`);
    const show = (name: string, e: { logZ: number; logZLow: number; logZHigh: number; effectiveSampleSize: number; seconds: number }): void =>
      console.log(`| ${name} | ${f(e.logZ)} | [${f(e.logZLow)}, ${f(e.logZHigh)}] | ${f(e.effectiveSampleSize, 1)} | ${f(e.seconds, 1)} |`);
    console.log('| method | log Z | band | ESS | s |');
    const T = trajectory.snapshots.length;
    for (const K of [1000]) {
      const S = Math.round(K / T);
      const fwd = await trajectoryAis(device, trajectory, { runs: 100, stepsBetween: S, seed: 1, allocate: 'adaptive' });
      show(`trajectory forward, ${fwd.steps} steps (adaptive, pilot ${f(fwd.pilotSeconds, 1)} s)`, fwd);
      const rev = await reverseTrajectoryAis(device, trajectory, { runs: 100, stepsBetween: fwd.stepsPerSegment, seed: 1, start: data.map((x) => (x > 0.5 ? 1 : 0)), burnIn: 100 });
      show(`trajectory reverse from data + 100 sweeps, ${rev.steps} steps`, rev);
      const tf = await ais(model, { data, runs: 100, betas: fwd.steps, seed: 1 });
      show(`temperature forward, ${fwd.steps} βs`, tf);
      const tr = await reverseAis(model, { data, start: data.map((x) => (x > 0.5 ? 1 : 0)), runs: 100, betas: fwd.steps, seed: 1, burnIn: 100 });
      show(`temperature reverse from data + 100 sweeps, ${fwd.steps} βs`, tr);
    }
    model.dispose();
  }, 3_600_000);
});

describe.runIf(MODE === 'thin')('trajectory AIS along thinned trajectories on 784-16 (exact log Z)', () => {
  it('measures', async () => {
    const device = await testDevice();
    const data = await digits(2000);
    const fit = { epochs: 10, batchSize: 20, learningRate: 0.01, momentum: 0.5, k: 1, persistent: true, chains: 20, centered: false, seed: 2, updatesPerSubmit: 50 };
    const { model, trajectory: t } = await trainRecorded(device, data, 16, fit);
    const exact = await exactLogZ(model);
    const T = t.snapshots.length;
    const K = 300;
    const all = t.snapshots.map((_, i) => i);
    const variants: [string, number[]][] = [
      ['all snapshots', all],
      ['log-spaced', [0, 1, 2, 3, 5, 8, 13, T - 1]],
      ['every 4th', all.filter((i) => i % 4 === 0 || i === T - 1)],
      ['initial + final', [0, T - 1]],
      ['final only (straight line from the base model)', [T - 1]],
    ];
    console.log(`\n784-16, ${T} snapshots (every 50 updates), exact log Z ${f(exact)}; ${K} steps, 100 runs, adaptive allocation`);
    console.log('| path | snapshots | error (seed 1, 2) | ESS (seed 1, 2) |');
    for (const [name, idx] of variants) {
      const snaps = idx.map((i) => t.snapshots[i]);
      const rs = [];
      for (const seed of [1, 2]) rs.push(await trajectoryAis(device, { ...t, snapshots: snaps }, { runs: 100, stepsBetween: Math.round(K / snaps.length), seed, allocate: 'adaptive' }));
      console.log(`| ${name} | ${snaps.length} | ${rs.map((r) => f(r.logZ - exact)).join(', ')} | ${rs.map((r) => f(r.effectiveSampleSize, 1)).join(', ')} |`);
    }
    const ts = [];
    for (const seed of [1, 2]) ts.push(await ais(model, { data, runs: 100, betas: K, seed }));
    console.log(`| temperature AIS (S&M spacing) | – | ${ts.map((r) => f(r.logZ - exact)).join(', ')} | ${ts.map((r) => f(r.effectiveSampleSize, 1)).join(', ')} |`);
    model.dispose();
  }, 3_600_000);
});
