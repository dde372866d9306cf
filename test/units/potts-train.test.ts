// One CD-k update of a Potts RBM on the GPU against a float64 replay of the same
// update: the same Philox draws (hidden: element (row)·H + j; Potts sites: one
// uniform at the site's first unit, src/rbm/schedule.ts phases), each site's
// softmax and categorical draw, then W += lr (v₀ᵀp₀ − v_kᵀp_k)/B, b and c likewise.
// Odd sizes: L = 5 sites × q = 7 states (V = 35), H = 9, B = 3, k = 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniform01 } from '../../src/host/philox';
import { cdHiddenPhase, cdVisiblePhase } from '../../src/host/rng-streams';
import { RBM } from '../../src/rbm/model';
import { oneHotFromCodes } from '../../src/units/potts';
import { testDevice } from '../helpers/device';
import { mulberry32 } from '../helpers/random';
import { POTTS_ODD, pottsModel, randomCodes, randomPottsParams } from '../helpers/random-potts';
import { sigmoid } from '../reference/exact';
import { categorical, pottsConditional } from '../reference/potts';

const { sites: L, states: Q, hidden: H, rows: B } = POTTS_ODD;
const V = L * Q;
const K = 2;
const SEED = 4242;
const LR = 0.1;

let device: GPUDevice;
let model: RBM | undefined;
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => model?.dispose());

describe('a CD-k update of a Potts RBM', () => {
  it('matches the float64 replay of the same draws (L = 5, q = 7, H = 9, B = 3, k = 2)', async () => {
    const rand = mulberry32(77);
    const p = randomPottsParams(L, Q, H, 0.8, rand);
    const { W, b, c } = p;
    const v0 = oneHotFromCodes(randomCodes(B, L, Q, rand), L, Q);
    model = pottsModel(device, p, SEED);
    const trainer = await model.createTrainer({ batchSize: B, k: K, metrics: false, tile: { wgCols: 4, wgRows: 4, threadRows: 2, tileK: 4, shared: true } });
    trainer.update(v0, { learningRate: LR });
    const got = await model.readParams();
    trainer.dispose();

    // The replay, step 0.
    const hiddenPass = (v: ArrayLike<number>, row: number, phase: number): { prob: number[]; sample: number[] } => {
      const prob: number[] = [];
      const sample: number[] = [];
      for (let j = 0; j < H; j++) {
        let x = c[j];
        for (let i = 0; i < V; i++) x += v[i] * W[i * H + j];
        prob.push(sigmoid(x));
        sample.push(uniform01(SEED, 0, row * H + j, phase) < prob[j] ? 1 : 0);
      }
      return { prob, sample };
    };
    const pos = Array.from({ length: B }, (_, m) => hiddenPass(v0.subarray(m * V, (m + 1) * V), m, cdHiddenPhase(0)));
    let h = pos.map((x) => x.sample);
    let vk: Float64Array[] = [];
    let neg = pos;
    for (let t = 1; t <= K; t++) {
      vk = h.map((hm, m) => {
        const probs = pottsConditional(p, hm);
        const v = new Float64Array(V);
        for (let s = 0; s < L; s++) {
          const e0 = ((B + m) * L + s) * Q;
          v[s * Q + categorical(probs.subarray(s * Q, (s + 1) * Q), uniform01(SEED, 0, e0, cdVisiblePhase(t)))] = 1;
        }
        return v;
      });
      neg = vk.map((v, m) => hiddenPass(v, B + m, cdHiddenPhase(t)));
      h = neg.map((x) => x.sample);
    }
    for (let i = 0; i < V; i++) {
      let db = 0;
      for (let m = 0; m < B; m++) db += v0[m * V + i] - vk[m][i];
      expect(Math.abs(got.b[i] - (b[i] + (LR * db) / B)), `b[${i}]`).toBeLessThan(1e-5);
      for (let j = 0; j < H; j++) {
        let g = 0;
        for (let m = 0; m < B; m++) g += v0[m * V + i] * pos[m].prob[j] - vk[m][i] * neg[m].prob[j];
        expect(Math.abs(got.W[i * H + j] - (W[i * H + j] + (LR * g) / B)), `W[${i}, ${j}]`).toBeLessThan(1e-5);
      }
    }
    for (let j = 0; j < H; j++) {
      let dc = 0;
      for (let m = 0; m < B; m++) dc += pos[m].prob[j] - neg[m].prob[j];
      expect(Math.abs(got.c[j] - (c[j] + (LR * dc) / B)), `c[${j}]`).toBeLessThan(1e-5);
    }
    // The chains moved: the negative phase is not the data.
    expect(vk.some((v, m) => v.some((x, i) => x !== v0[m * V + i]))).toBe(true);
  });
});
