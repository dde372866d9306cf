// A planted-motif data set: L = 12 sites of q = 4 states, three motifs at fixed
// positions, each present (all three of its states) in half the sequences
// independently, uniform noise everywhere else. Site marginals alone cannot
// tell a motif from noise (an independent-site model puts a whole motif at
// (1/2 + 1/8)^3 ≈ 0.24); only the couplings a Potts RBM learns can. A small
// Potts RBM trained with CD-5 on the GPU must (1) sample whole motifs about as
// often as the data has them, with different motifs independent, (2) have
// hidden units whose weights sit on each motif's sites, and (3) beat the
// independent-site model's exact log-likelihood on held-out sequences.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactLogZ, averageLogLikelihood } from '../../src/rbm/logz';
import { RBM } from '../../src/rbm/model';
import { codesFromOneHot, oneHotFromCodes } from '../../src/units/potts';
import { testDevice } from '../helpers/device';
import { mulberry32 } from '../helpers/random';

const L = 12;
const Q = 4;
const V = L * Q;
const H = 6;
/** Motif k occupies sites MOTIFS[k].sites with states MOTIFS[k].states. */
const MOTIFS = [
  { sites: [1, 2, 3], states: [0, 1, 2] },
  { sites: [5, 6, 7], states: [3, 3, 1] },
  { sites: [9, 10, 11], states: [2, 0, 3] },
];
const PRESENT = 0.5;

function synthesize(rows: number, seed: number): { codes: Uint8Array; present: boolean[][] } {
  const rand = mulberry32(seed);
  const codes = new Uint8Array(rows * L);
  const present: boolean[][] = [];
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < L; s++) codes[r * L + s] = Math.floor(rand() * Q);
    present.push(
      MOTIFS.map((m) => {
        const on = rand() < PRESENT;
        if (on) m.sites.forEach((s, t) => (codes[r * L + s] = m.states[t]));
        return on;
      }),
    );
  }
  return { codes, present };
}

function hasMotif(codes: Uint8Array, r: number, k: number): boolean {
  return MOTIFS[k].sites.every((s, t) => codes[r * L + s] === MOTIFS[k].states[t]);
}

let device: GPUDevice;
let model: RBM | undefined;
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => model?.dispose());

describe('a Potts RBM on planted motifs', () => {
  it('recovers the motifs: co-occurrence in samples, weights on the motif sites, likelihood above independent sites', async () => {
    const train = synthesize(1200, 1);
    const test = synthesize(400, 2);
    const data = oneHotFromCodes(train.codes, L, Q);
    // The data's own motif rate (a motif also appears by chance: 1/64 of the other half).
    const rows = train.present.length;
    const dataRate = MOTIFS.map((_, k) => {
      let n = 0;
      for (let r = 0; r < rows; r++) if (hasMotif(train.codes, r, k)) n++;
      return n / rows;
    });
    dataRate.forEach((x) => expect(x).toBeGreaterThan(0.45));

    const freq = new Float64Array(V);
    for (let e = 0; e < data.length; e++) freq[e % V] += data[e] / rows;
    model = RBM.create(device, { visible: V, hidden: H, seed: 5, visibleType: 'potts', visibleStates: Q, visibleMarginals: freq, weightScale: 0.05 });
    await model.fit(data, { epochs: 40, batchSize: 20, learningRate: 0.02, momentum: 0.5, k: 5, binarize: 'none', weightDecay: 1e-4 });

    // (1) Samples: whole motifs at about the data's rate, far above the independent-site 0.24, and motifs independent.
    const chains = 600;
    const res = await model.sample({ chains, steps: 200, seed: 9 });
    const codes = codesFromOneHot(res.samples, V, Q);
    const rate = MOTIFS.map((_, k) => {
      let n = 0;
      for (let r = 0; r < chains; r++) if (hasMotif(codes, r, k)) n++;
      return n / chains;
    });
    for (let k = 0; k < MOTIFS.length; k++) {
      expect(rate[k], `motif ${k} in samples: ${rate[k]} (data ${dataRate[k]})`).toBeGreaterThan(0.35);
      expect(rate[k], `motif ${k} in samples: ${rate[k]} (data ${dataRate[k]})`).toBeLessThan(0.7);
    }
    let both = 0;
    for (let r = 0; r < chains; r++) if (hasMotif(codes, r, 0) && hasMotif(codes, r, 2)) both++;
    expect(Math.abs(both / chains - rate[0] * rate[2]), 'motifs 0 and 2 co-occur independently').toBeLessThan(0.1);

    // (2) Each motif has a hidden unit with most of its weight on the motif's 3 sites (a quarter of the sites).
    const { W } = await model.readParams();
    for (const m of MOTIFS) {
      let best = 0;
      for (let j = 0; j < H; j++) {
        let on = 0;
        let all = 0;
        for (let s = 0; s < L; s++) {
          // Per site: the spread of the weights over the states (gauge-free: the mean over states drops out).
          let mean = 0;
          for (let t = 0; t < Q; t++) mean += W[(s * Q + t) * H + j] / Q;
          let ss = 0;
          for (let t = 0; t < Q; t++) ss += (W[(s * Q + t) * H + j] - mean) ** 2;
          all += ss;
          if (m.sites.includes(s)) on += ss;
        }
        best = Math.max(best, on / all);
      }
      expect(best, `motif at sites ${m.sites}: best hidden unit's weight share`).toBeGreaterThan(0.6);
    }

    // (3) Held-out exact log-likelihood above the independent-site model fitted to the same data.
    const logZ = await exactLogZ(model);
    const ll = await averageLogLikelihood(model, oneHotFromCodes(test.codes, L, Q), logZ);
    let indep = 0;
    for (let r = 0; r < test.present.length; r++) {
      for (let s = 0; s < L; s++) indep += Math.log((freq[s * Q + test.codes[r * L + s]] * rows + 1) / (rows + Q)) / test.present.length;
    }
    // The truth is ≈ 1.46 nats above independent sites (each motif block: E[log p_true − log p_indep] ≈ 0.49).
    expect(ll, `model ${ll} vs independent sites ${indep}`).toBeGreaterThan(indep + 0.5);
  });
});
