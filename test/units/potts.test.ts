// Potts visible units on the GPU against the float64 reference (test/reference/potts.ts):
// the visible pass + group pass (softmax, one-hot draw from the Philox stream) on odd
// sizes with every flag combination and a row offset, free energies, exact log Z
// (brute force over every (v, h) and the hidden-side formula), Gibbs sampling
// statistics against exact marginals, AIS within its band, the zero-sum gauge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferOwner, readFloat32 } from '../../src/gpu/buffers';
import { DEFAULT_TILE, KERNELS, VISIBLE_FLAGS } from '../../src/gpu/kernels';
import { POTTS_GROUP, POTTS_KERNELS } from '../../src/gpu/potts-kernels';
import { uniform01 } from '../../src/host/philox';
import { ais, reverseAis } from '../../src/rbm/ais';
import { exactLogZ } from '../../src/rbm/logz';
import { RBM } from '../../src/rbm/model';
import { UNITS, unitType, visibleUnit } from '../../src/units';
import { checkOneHot, codesFromOneHot, oneHotFromCodes, zeroSumGauge } from '../../src/units/potts';
import { dispatchOnce } from '../helpers/dispatch';
import { testDevice } from '../helpers/device';
import { mulberry32 } from '../helpers/random';
import { POTTS_ODD, pottsModel as createPottsModel, randomCodes, randomPottsParams, type RandomPottsParams } from '../helpers/random-potts';
import * as ref from '../reference/potts';

let device: GPUDevice;
let owner: BufferOwner;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
  owner = new BufferOwner(device, 'potts tests');
});
afterAll(() => {
  models.forEach((m) => m.dispose());
  owner?.dispose();
});

function randomParams(L: number, q: number, H: number, scale: number, seed: number): RandomPottsParams {
  return randomPottsParams(L, q, H, scale, mulberry32(seed));
}

function pottsModel(p: RandomPottsParams, seed = 1): RBM {
  const m = createPottsModel(device, p, seed);
  models.push(m);
  return m;
}

describe('the Potts visible pass and group pass', () => {
  // Odd sizes: L = 5 sites of q = 7 states (V = 35), H = 9, B = 3 rows written at row offset 1.
  const { sites: L, states: q, hidden: H, rows: B } = POTTS_ODD;
  const V = L * q;
  const OFFSET = 1;
  const SEED = 0xabc1;
  const STEP = 11;
  const PHASE = 5;

  it.each([
    ['probabilities and samples', VISIBLE_FLAGS.WRITE_PROB | VISIBLE_FLAGS.WRITE_SAMPLE],
    ['samples only', VISIBLE_FLAGS.WRITE_SAMPLE],
    ['probabilities only', VISIBLE_FLAGS.WRITE_PROB],
  ])('%s: softmax per site and the categorical draw agree with float64', async (_what, flags) => {
    const p = randomParams(L, q, H, 1.2, 17);
    const rand = mulberry32(3);
    const hid = Float32Array.from({ length: B * H }, () => (rand() < 0.5 ? 1 : 0));
    const unit = unitType('potts', q);
    const counter = owner.storage('counter', new Uint32Array([STEP, 0, 0, 0]));
    const hidBuf = owner.storage('hid', hid);
    const W = owner.storage('W', p.W);
    const b = owner.storage('b', p.b);
    const sentinel = new Float32Array((B + 2) * V).fill(-7);
    const visProb = owner.storage('vis_prob', sentinel);
    const vis = owner.storage('vis', sentinel);
    const vSpec = KERNELS.visible(DEFAULT_TILE, unit.wgsl);
    const vDims = owner.uniform('vdims', new ArrayBuffer(32));
    device.queue.writeBuffer(
      vDims, 0,
      new Uint32Array([B, 0, OFFSET, H, V, PHASE, SEED, flags]),
    );
    await dispatchOnce(device, vSpec, { dims: vDims, counter, hid_sample: hidBuf, W, b, vis_prob: visProb, vis }, Math.ceil(V / 64), Math.ceil(B / 64));
    const gDims = owner.uniform('gdims', new ArrayBuffer(32));
    device.queue.writeBuffer(gDims, 0, new Uint32Array([B, OFFSET, L, q, PHASE, SEED, flags, 0]));
    await dispatchOnce(device, POTTS_KERNELS.group(), { dims: gDims, counter, vis_prob: visProb, vis }, 1);
    const [gotP, gotV] = await Promise.all([readFloat32(device, visProb, (B + 2) * V), readFloat32(device, vis, (B + 2) * V)]);

    let mismatches = 0;
    for (let r = 0; r < B + 2; r++) {
      const written = r >= OFFSET && r < OFFSET + B;
      if (!written) {
        // Rows outside the pass keep their contents.
        for (let i = 0; i < V; i++) {
          expect(gotP[r * V + i]).toBe(-7);
          expect(gotV[r * V + i]).toBe(-7);
        }
        continue;
      }
      const m = r - OFFSET;
      const probs = ref.pottsConditional(p, hid.subarray(m * H, (m + 1) * H));
      for (let s = 0; s < L; s++) {
        const e0 = r * V + s * q;
        const site = probs.subarray(s * q, (s + 1) * q);
        if (flags & VISIBLE_FLAGS.WRITE_PROB) {
          for (let t = 0; t < q; t++) expect(Math.abs(gotP[e0 + t] - site[t]), `row ${m} site ${s} state ${t}`).toBeLessThan(2e-6);
        }
        if (flags & VISIBLE_FLAGS.WRITE_SAMPLE) {
          const got = Array.from(gotV.subarray(e0, e0 + q));
          expect(got.filter((x) => x === 1).length).toBe(1);
          expect(got.filter((x) => x === 0).length).toBe(q - 1);
          const u = uniform01(SEED, STEP, e0, PHASE);
          const want = ref.categorical(site, u);
          // float32 vs float64 cumulative sums may part only where u sits on a boundary.
          if (got.indexOf(1) !== want) {
            mismatches++;
            let cum = 0;
            const near = Array.from(site).some((x) => Math.abs((cum += x) - u) < 1e-5);
            expect(near, `row ${m} site ${s}: drew ${got.indexOf(1)}, want ${want} (u = ${u})`).toBe(true);
          }
        } else {
          // Without WRITE_SAMPLE vis is untouched.
          for (let t = 0; t < q; t++) expect(gotV[e0 + t]).toBe(-7);
        }
      }
    }
    expect(mismatches).toBeLessThanOrEqual(1);
  });

  it("potts_group.wgsl's flag bits are the visible pass's VISIBLE_FLAGS", () => {
    for (const [name, value] of Object.entries(VISIBLE_FLAGS)) {
      const m = new RegExp(`const ${name}: u32 = (\\d+)u;`).exec(POTTS_GROUP.code);
      expect(Number(m?.[1]), name).toBe(value);
    }
  });

  it('the TS draw reproduces the kernel stream: uniform01 at the site\'s first element', () => {
    const unit = unitType('potts', 4);
    const p = [0.1, 0.2, 0.3, 0.4];
    for (let e0 = 0; e0 < 40; e0 += 4) {
      expect(unit.group!.draw(p, 1, 2, e0, 3)).toBe(ref.categorical(p, uniform01(1, 2, e0, 3)));
    }
  });
});

describe('Potts free energy and log Z', () => {
  it('free energies on the GPU agree with float64 (L = 5, q = 7, H = 9, 3 rows)', async () => {
    const p = randomParams(5, 7, 9, 0.8, 21);
    const m = pottsModel(p);
    const rand = mulberry32(4);
    const codes = randomCodes(3, 5, 7, rand);
    const data = oneHotFromCodes(codes, 5, 7);
    const got = await m.freeEnergy(data);
    for (let r = 0; r < 3; r++) {
      const want = ref.pottsFreeEnergy(p, data.subarray(r * 35, (r + 1) * 35));
      expect(Math.abs(got[r] - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
    }
  });

  it('exact log Z on the GPU equals the brute force over every (v, h) (L = 3, q = 3, H = 4)', async () => {
    const p = randomParams(3, 3, 4, 1, 5);
    const brute = ref.pottsLogZBrute(p);
    expect(ref.pottsLogZHidden(p)).toBeCloseTo(brute, 10);
    const got = await exactLogZ(pottsModel(p));
    expect(Math.abs(got - brute)).toBeLessThan(1e-5 * Math.max(1, Math.abs(brute)));
  });

  it('exact log Z on odd sizes, a site straddling two tiles (L = 13, q = 7, H = 9: V = 91 > 64)', async () => {
    const p = randomParams(13, 7, 9, 0.7, 6);
    const want = ref.pottsLogZHidden(p);
    const got = await exactLogZ(pottsModel(p));
    expect(Math.abs(got - want)).toBeLessThan(2e-6 * Math.max(1, Math.abs(want)));
  });

  it('the zero-sum gauge keeps p(v) and shifts log Z by Σ_site mean b', async () => {
    const p = randomParams(3, 3, 4, 1, 8);
    const g = zeroSumGauge(p, 9, 4, 3);
    const gp = { ...p, W: g.W, b: g.b, c: g.c };
    for (let s = 0; s < 3; s++) {
      expect(Math.abs(g.b[s * 3] + g.b[s * 3 + 1] + g.b[s * 3 + 2])).toBeLessThan(1e-6);
      for (let j = 0; j < 4; j++) expect(Math.abs(g.W[(s * 3) * 4 + j] + g.W[(s * 3 + 1) * 4 + j] + g.W[(s * 3 + 2) * 4 + j])).toBeLessThan(1e-6);
    }
    const before = ref.pottsDistribution(p);
    const after = ref.pottsDistribution(gp);
    for (let n = 0; n < before.length; n++) expect(Math.abs(before[n] - after[n])).toBeLessThan(1e-6);
    expect(ref.pottsLogZBrute(gp)).toBeCloseTo(ref.pottsLogZBrute(p) - g.logZShift, 5);
  });
});

describe('Potts sampling and AIS', () => {
  it('Gibbs chains reproduce the exact site and pair marginals (L = 3, q = 3, H = 4)', async () => {
    const p = randomParams(3, 3, 4, 1.2, 12);
    const m = pottsModel(p, 77);
    const chains = 1500;
    const res = await m.sample({ chains, steps: 60 });
    checkOneHot('samples', res.samples, 9, 3);
    const codes = codesFromOneHot(res.samples, 9, 3);
    const marg = ref.pottsMarginals(p);
    for (let i = 0; i < 9; i++) {
      let count = 0;
      for (let r = 0; r < chains; r++) count += res.samples[r * 9 + i];
      const f = count / chains;
      const sd = Math.sqrt((marg[i] * (1 - marg[i])) / chains);
      expect(Math.abs(f - marg[i]), `unit ${i}: ${f} vs ${marg[i]}`).toBeLessThan(5 * sd + 1e-3);
    }
    const pair = ref.pottsPairMarginal(p, 0, 2);
    for (let a = 0; a < 3; a++) {
      for (let c = 0; c < 3; c++) {
        let count = 0;
        for (let r = 0; r < chains; r++) if (codes[r * 3] === a && codes[r * 3 + 2] === c) count++;
        const want = pair[a * 3 + c];
        const sd = Math.sqrt((want * (1 - want)) / chains);
        expect(Math.abs(count / chains - want), `pair (${a}, ${c})`).toBeLessThan(5 * sd + 1e-3);
      }
    }
    // The probabilities kept are each site's softmax: they sum to 1.
    for (let g = 0; g < chains * 3; g++) {
      const s = res.probabilities[g * 3] + res.probabilities[g * 3 + 1] + res.probabilities[g * 3 + 2];
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
  });

  it('noise starts each chain one-hot; reconstruct gives each site\'s softmax', async () => {
    const p = randomParams(5, 7, 9, 0.5, 13);
    const m = pottsModel(p);
    const chains = await m.createChains({ chains: 3 });
    try {
      checkOneHot('noise', await chains.read(), 35, 7);
    } finally {
      chains.dispose();
    }
    const data = oneHotFromCodes(randomCodes(3, 5, 7, mulberry32(2)), 5, 7);
    const rec = await m.reconstruct(data);
    for (let g = 0; g < 15; g++) {
      let s = 0;
      for (let t = 0; t < 7; t++) s += rec[g * 7 + t];
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
  });

  it('forward and reverse AIS agree with the exact log Z of a small Potts model (L = 4, q = 3, H = 5)', async () => {
    const p = randomParams(4, 3, 5, 1, 31);
    const m = pottsModel(p);
    const want = ref.pottsLogZHidden(p);
    const marginals = ref.pottsMarginals({ ...p });
    const est = await ais(m, { marginals, betas: 500, runs: 64, seed: 3 });
    expect(est.logZLow).toBeLessThanOrEqual(want + 0.05);
    expect(est.logZHigh).toBeGreaterThanOrEqual(want - 0.05);
    expect(Math.abs(est.logZ - want)).toBeLessThan(0.1);
    // Reverse AIS from the model's own (Gibbs, well mixed) samples down to the base model: the same group pass at every β.
    const start = (await m.sample({ chains: 64, steps: 200, seed: 4 })).samples;
    const rev = await reverseAis(m, { marginals, start, betas: 500, runs: 64, burnIn: 20, seed: 5 });
    expect(Math.abs(rev.logZ - want), `reverse ${rev.logZ} vs exact ${want}`).toBeLessThan(0.1);
    // The base model's log Z: independent sites at softmax(log marginals) (sums to 1 per site) and 2^H.
    expect(visibleUnit(m).baseLogZ(Array.from(marginals, Math.log), 5)).toBeCloseTo(5 * Math.LN2, 9);
  });
});

describe('the Potts unit descriptor', () => {
  it('checks one-hot states with an error naming row, site and the fix', () => {
    const unit = unitType('potts', 3);
    expect(() => unit.checkStates('batch', Float32Array.of(0, 1, 0, 1, 1, 0), 6)).toThrow(
      /batch is not one-hot: row 0, site 1 of 2 holds \[1, 1, 0\].*integer codes/,
    );
    expect(() => unit.checkStates('batch', Float32Array.of(0, 1, 0, 0, 0.5, 0.5), 6)).toThrow(/site 1/);
    expect(() => unit.checkStates('batch', Float32Array.of(0, 1, 0, 0, 0, 1), 6)).not.toThrow();
    expect(() => unit.checkStates('batch', Float32Array.of(0, 1, 0, 0), 4)).toThrow(/divisible by 3/);
  });

  it('needs its states count where it matters, and names the fix', () => {
    expect(() => UNITS.potts.baseLogZ([0, 0], 1)).toThrow(/unitType\('potts', q\)/);
    expect(() => unitType('potts', 1)).toThrow(/states must be an integer in \[2, 256\]/);
    expect(() => unitType('bernoulli', 3)).toThrow(/take no states count/);
    expect(unitType('potts', 5)).toBe(unitType('potts', 5));
    expect(() => RBM.create(device, { visible: 10, hidden: 2, visibleType: 'potts', visibleStates: 3 })).toThrow(/divisible by 3/);
    expect(() => RBM.create(device, { visible: 9, hidden: 2, visibleType: 'potts' })).toThrow(/visibleStates must be an integer/);
    expect(() => RBM.create(device, { visible: 9, hidden: 2, visibleStates: 3 })).toThrow(/visibleStates is for Potts units/);
  });

  it('fit refuses rows that are not one-hot and binarization, naming the fix', async () => {
    const m = pottsModel(randomParams(2, 3, 2, 0.1, 3));
    const bad = Float32Array.of(0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 1);
    await expect(m.fit(bad, { epochs: 1, batchSize: 1, binarize: 'none' })).rejects.toThrow(/training data is not one-hot: row 0, site 1 of 2/);
    const good = Float32Array.of(0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1);
    await expect(m.fit(good, { epochs: 1, batchSize: 1, binarize: 'stochastic' })).rejects.toThrow(/use binarize: 'none'/);
    await expect(m.fit(good, { epochs: 1, batchSize: 1 })).resolves.toBeDefined();
  });

  it('codes ↔ one-hot, with errors naming the bad code', () => {
    const oh = oneHotFromCodes([2, 0, 1, 1], 2, 3);
    expect(Array.from(oh)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0]);
    expect(Array.from(codesFromOneHot(oh, 6, 3))).toEqual([2, 0, 1, 1]);
    expect(() => oneHotFromCodes([0, 3], 2, 3)).toThrow(/code 3 at row 0, site 1 is not an integer in 0..2: raise --states to at least 4/);
    expect(() => oneHotFromCodes([0, 1, 2], 2, 3)).toThrow(/not a positive multiple of 2 sites/);
  });

  it('base model from data: smoothed log frequencies, log Z_0 = Σ_site logsumexp + H log 2', () => {
    const unit = unitType('potts', 3);
    const data = oneHotFromCodes([0, 1, 0, 2], 2, 3); // 2 rows, 2 sites
    const bA = unit.baseBiases(data, 6, 1);
    // site 0: codes 0, 0 → (2 + 1) / (2 + 3), (0 + 1)/5, 1/5
    expect(Array.from(bA, Math.exp).map((x) => +x.toFixed(12))).toEqual([0.6, 0.2, 0.2, 0.2, 0.4, 0.4]);
    expect(unit.baseLogZ(bA, 4)).toBeCloseTo(4 * Math.LN2, 12);
    expect(() => unit.baseBiasesFromMeans([0.5, 0.5, 0.5, 0.2, 0.4, 0.4], 6)).toThrow(/site 0's 3 state frequencies sum to 1.5/);
  });
});

describe('the Potts host definitions', () => {
  it('are consistent: the bias difference, the inverse mean up to the softmax, the noise one-hot and uniform', () => {
    const q = 4;
    const unit = unitType('potts', q);
    const rand = mulberry32(9);
    for (let t = 0; t < 30; t++) {
      const v = rand() < 0.5 ? 0 : 1;
      const b = (rand() - 0.5) * 6;
      const bBase = (rand() - 0.5) * 6;
      expect(unit.biasDifference(v, b, bBase)).toBeCloseTo(unit.freeEnergyTerm(v, bBase) - unit.freeEnergyTerm(v, b), 12);
    }
    const m = [0.1, 0.2, 0.3, 0.4];
    const back = unit.group!.probabilities(m.map((x) => unit.biasFromMean(x)));
    m.forEach((x, t) => expect(back[t]).toBeCloseTo(x, 12));
    const counts = new Array(q).fill(0);
    for (let g = 0; g < 400; g++) {
      const site = Array.from({ length: q }, (_, t) => unit.noise(3, g * q + t, 11));
      expect(site.reduce((a, x) => a + x, 0)).toBe(1);
      counts[site.indexOf(1)]++;
    }
    for (const c of counts) expect(Math.abs(c - 100)).toBeLessThan(40);
  });
});
