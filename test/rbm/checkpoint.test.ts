// Resumable training: a run checkpointed after some epochs and resumed (in a
// fresh model, through the safetensors file) must end bit-identical to the
// run that never stopped — parameters, velocities, chains, sparsity
// estimates, counters — for CD-k, PCD-k (chains = and ≠ batch), parallel
// tempering and sparsity, with schedules that change at the resumed epoch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { fitPT, type PTFitOptions } from '../../src/rbm/pt-train';
import type { FitOptions } from '../../src/rbm/fit';
import {
  checkpointFromSafetensors, checkpointToSafetensors, CHECKPOINT_KEYS, type TrainingState,
} from '../../src/rbm/checkpoint';
import { rbmFromSafetensors, rbmToSafetensors } from '../../src/rbm/model-file';
import { SafetensorsFormatError } from '../../src/rbm/safetensors';
import { testDevice } from '../helpers/device';
import { mulberry32 } from '../helpers/random';
import { LEGACY_FIT_OPTIONS, LEGACY_PT_FIT_OPTIONS } from '../helpers/legacy-fit';

const V = 13;
const H = 7;
const B = 5;
const ROWS = 23; // 4 updates per epoch, 3 rows left over

let device: GPUDevice;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => models.forEach((m) => m.dispose()));

const intensities = Float32Array.from({ length: ROWS * V }, mulberry32(11));

function model(seed = 5): RBM {
  const m = RBM.create(device, { visible: V, hidden: H, seed, weightScale: 0.3 });
  models.push(m);
  return m;
}

type Options = Omit<FitOptions, 'epochs'> & Partial<PTFitOptions> & { pt?: boolean };

async function train(m: RBM, o: Options & { epochs: number }): Promise<unknown> {
  const { pt, ...rest } = o;
  return pt ? fitPT(m, intensities, rest as PTFitOptions) : m.fit(intensities, rest);
}

/** Every bit of a state that a resume must reproduce. */
function bits(s: TrainingState): Record<string, number[]> {
  const u = (a: Float32Array | undefined) => Array.from(new Uint32Array(a ? a.slice().buffer : new ArrayBuffer(0)));
  return {
    W: u(s.params.W), b: u(s.params.b), c: u(s.params.c),
    vW: u(s.velocities.W), vb: u(s.velocities.b), vc: u(s.velocities.c),
    q: u(s.hiddenMean), chains: u(s.chains), pt: u(s.tempering?.states),
    mu: u(s.offsets?.visible), lambda: u(s.offsets?.hidden),
    counters: [s.epoch, s.updates, s.tempering?.steps ?? -1, s.tempering?.swapRounds ?? -1, ...(s.tempering?.swapsAccepted ?? [])],
  };
}

/** The file with one string of its JSON header replaced by another of the same length. */
function patchHeader(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  expect(header).toContain(from);
  const patched = new TextEncoder().encode(header.replace(from, to));
  expect(patched.length).toBe(n);
  const out = bytes.slice();
  out.set(patched, 8);
  return out;
}

interface Case {
  name: string;
  options: Options;
  /** Epochs of the whole run, and where the first part stops. */
  epochs: number;
  split: number;
}

const schedules = { learningRate: (e: number) => 0.1 / (1 + e), momentum: (e: number) => (e < 1 ? 0.5 : 0.8) };

const CASES: Case[] = [
  { name: 'CD-1', options: { ...LEGACY_FIT_OPTIONS, batchSize: B, k: 1, ...schedules }, epochs: 2, split: 1 },
  { name: 'PCD-3 with sparsity', options: { ...LEGACY_FIT_OPTIONS, batchSize: B, k: 3, persistent: true, chains: B, sparsityCost: 0.3, sparsityTarget: 0.2, sparsityDecay: 0.8, ...schedules }, epochs: 3, split: 1 },
  { name: 'PCD-2 with 7 chains', options: { ...LEGACY_FIT_OPTIONS, batchSize: B, k: 2, persistent: true, chains: 7, ...schedules }, epochs: 2, split: 1 },
  { name: 'PCD-1 with 3 chains, threshold binarization', options: { ...LEGACY_FIT_OPTIONS, batchSize: B, persistent: true, chains: 3, binarize: 'threshold', ...schedules }, epochs: 3, split: 2 },
  { name: 'parallel tempering, 3 replicas, 2 sweeps', options: { ...LEGACY_PT_FIT_OPTIONS, pt: true, batchSize: B, replicas: 3, sweepsPerUpdate: 2, ...schedules }, epochs: 2, split: 1 },
  { name: 'parallel tempering with 4 chains and sparsity', options: { ...LEGACY_PT_FIT_OPTIONS, pt: true, batchSize: B, chains: 4, replicas: 4, sparsityCost: 0.2, ...schedules }, epochs: 3, split: 1 },
  // The practical guide's momentum (0.5 for 5 epochs, then 0.9) switches at the resumed epoch.
  { name: "CD-2 with momentum 'hinton' resumed at epoch 5", options: { ...LEGACY_FIT_OPTIONS, batchSize: B, k: 2, momentum: 'hinton', learningRate: 0.05 }, epochs: 7, split: 5 },
  // A named linear schedule (its horizon fixed, so the stopped run decays alike) and centered offsets in the state.
  {
    name: 'PCD-1 centered with a linear learning rate',
    options: { ...LEGACY_FIT_OPTIONS, batchSize: B, persistent: true, chains: B, centered: { rate: 0.1 }, learningRate: { schedule: 'linear', rate: 0.2, epochs: 3 }, momentum: 0.5 },
    epochs: 3,
    split: 1,
  },
];

describe.each(CASES)('$name', ({ options, epochs, split }) => {
  it(`${epochs} epochs in one run equal ${split} + a resume, bit for bit`, async () => {
    // The run that never stops, checkpointing the last epoch.
    const whole: TrainingState[] = [];
    const a = model();
    await train(a, { ...options, epochs, onCheckpoint: (s) => void whole.push(s), checkpointEvery: epochs });
    expect(whole.map((s) => s.epoch)).toEqual([epochs]);

    // The same run stopped after `split` epochs, its checkpoint through a file, resumed in a fresh model.
    const part: TrainingState[] = [];
    await train(model(), { ...options, epochs: split, onCheckpoint: (s) => void part.push(s) });
    expect(part.map((s) => s.epoch)).toEqual(Array.from({ length: split }, (_, e) => e + 1));
    const saved = part[split - 1];
    expect(saved.updates).toBe(split * Math.floor(ROWS / B));
    const loaded = checkpointFromSafetensors(checkpointToSafetensors(saved, { note: 'kept' }));
    expect(bits(loaded.state)).toEqual(bits(saved));
    expect(loaded.state.settings).toEqual(saved.settings);
    expect(loaded.metadata.note).toBe('kept');

    const b = model();
    const resumed: TrainingState[] = [];
    const r = (await train(b, { ...options, epochs, resume: loaded.state, onCheckpoint: (s) => void resumed.push(s), checkpointEvery: epochs })) as {
      epochs: { epoch: number }[];
      updates: number;
    };
    expect(r.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: epochs - split }, (_, i) => split + i));
    expect(r.updates).toBe((epochs - split) * Math.floor(ROWS / B));
    expect(resumed).toHaveLength(1);
    expect(bits(resumed[0])).toEqual(bits(whole[0]));
    const [pa, pb] = [await a.readParams(), await b.readParams()];
    expect(new Uint8Array(pb.W.buffer)).toEqual(new Uint8Array(pa.W.buffer));
    expect(new Uint8Array(pb.b.buffer)).toEqual(new Uint8Array(pa.b.buffer));
    expect(new Uint8Array(pb.c.buffer)).toEqual(new Uint8Array(pa.c.buffer));
  });
});

describe('checkpoints', () => {
  let state: TrainingState;
  beforeAll(async () => {
    const states: TrainingState[] = [];
    await model().fit(intensities, { ...LEGACY_FIT_OPTIONS, epochs: 5, batchSize: B, k: 1, persistent: true, chains: 6, checkpointEvery: 2, onCheckpoint: (s) => void states.push(s) });
    // Every 2nd epoch and the last.
    expect(states.map((s) => s.epoch)).toEqual([2, 4, 5]);
    state = states[1];
  });

  it('record the settings, the sizes and the parts of the method', () => {
    expect(state).toMatchObject({ visible: V, hidden: H, visibleType: 'bernoulli', modelSeed: 5, epoch: 4, updates: 16 });
    expect(state.settings).toMatchObject({ method: 'pcd', batchSize: B, chains: 6, k: 1, seed: 5, binarize: 'stochastic', dataRows: ROWS, momentum: 'hinton', learningRate: 0.05 });
    expect(state.chains).toHaveLength(6 * V);
    expect(state.tempering).toBeUndefined();
  });

  it('are model files too: W, b, c and the model keys read back as the model', () => {
    const f = rbmFromSafetensors(checkpointToSafetensors(state));
    expect(Array.from(f.W)).toEqual(Array.from(state.params.W));
    expect(f.metadata[CHECKPOINT_KEYS.epoch]).toBe('4');
    expect(f.metadata.seed).toBe('5');
  });

  it('refuse a resume whose options, model or data differ, naming what differs, and change nothing', async () => {
    const m = model();
    const before = await m.readParams();
    const base = { ...LEGACY_FIT_OPTIONS, epochs: 6, batchSize: B, k: 1, persistent: true, chains: 6, resume: state };
    await expect(m.fit(intensities, { ...base, batchSize: 4 })).rejects.toThrow(/resume: the checkpoint was trained with batchSize = 5, these options give 4/);
    await expect(m.fit(intensities, { ...base, chains: 5 })).rejects.toThrow(/chains = 6, these options give 5/);
    await expect(m.fit(intensities, { ...base, persistent: false, chains: undefined })).rejects.toThrow(/method = "pcd", these options give "cd"/);
    await expect(m.fit(intensities, { ...base, learningRate: (e) => 0.05 + e })).rejects.toThrow(/learningRate = 0.05, these options give a function of the epoch/);
    await expect(m.fit(intensities, { ...base, seed: 6 })).rejects.toThrow(/seed = 5, these options give 6/);
    await expect(m.fit(intensities, { ...base, sparsityCost: 0.1 })).rejects.toThrow(/sparsityCost = 0, these options give 0.1/);
    await expect(m.fit(intensities, { ...base, centered: true })).rejects.toThrow(/centered = nothing \(off\), these options give 0.01/);
    await expect(m.fit(intensities, { ...base, learningRate: { schedule: 'linear', rate: state.settings.learningRate! } }))
      .rejects.toThrow(/learningRateDecay = nothing \(off\), these options give \{"schedule":"linear","epochs":6\}/);
    await expect(m.fit(intensities, { ...base, epochs: 3 })).rejects.toThrow(/4 epochs done, more than epochs = 3/);
    await expect(m.fit(intensities.subarray(0, 20 * V), base)).rejects.toThrow(/trained on 23 rows, this data set has 20/);
    await expect(model(6).fit(intensities, base)).rejects.toThrow(
      /resume: the checkpoint is of a 13-7 bernoulli model with seed 5, this model is a 13-7 bernoulli model with seed 6/,
    );
    const wide = RBM.create(device, { visible: V, hidden: H + 1, seed: 5 });
    models.push(wide);
    await expect(wide.fit(intensities, base)).rejects.toThrow(/13-7 bernoulli model with seed 5, this model is a 13-8/);
    await expect(m.fit(intensities, { ...base, resume: { ...state, hiddenMean: new Float32Array(3) } })).rejects.toThrow(/resume: hiddenMean must be a Float32Array of 7 values, got 3/);
    await expect(m.fit(intensities, { ...base, resume: { ...state, updates: 15 } })).rejects.toThrow(/update counter is 15, but 4 epochs of 4 updates make 16/);
    const after = await m.readParams();
    expect(Array.from(after.W)).toEqual(Array.from(before.W));
    // epochs = the epochs done: nothing to run, the model gets the checkpoint's parameters.
    const r = await m.fit(intensities, { ...base, epochs: 4 });
    expect(r.updates).toBe(0);
  });

  it('read back with a clear error when truncated, not a checkpoint or inconsistent', () => {
    const bytes = checkpointToSafetensors(state);
    expect(() => checkpointFromSafetensors(bytes.subarray(0, bytes.length - 10))).toThrow(/truncated/);
    expect(() => checkpointFromSafetensors(bytes.subarray(0, 5))).toThrow(SafetensorsFormatError);
    const plain = rbmToSafetensors({ visible: V, hidden: H, W: state.params.W, b: state.params.b, c: state.params.c });
    expect(() => checkpointFromSafetensors(plain)).toThrow(/not a training checkpoint/);
    // A checkpoint whose recorded chains disagree with its tensor.
    const patched = patchHeader(bytes, '\\"chains\\":6', '\\"chains\\":8');
    expect(() => checkpointFromSafetensors(patched)).toThrow(/tensor "chains" has shape \[6, 13\]; expected \[8, 13\]/);
    const future = patchHeader(bytes, '"checkpoint":"1"', '"checkpoint":"9"');
    expect(() => checkpointFromSafetensors(future)).toThrow(/checkpoint version "9" is not supported/);
    expect(() => checkpointToSafetensors(state, { seed: '7' })).toThrow(/metadata "seed" is "7" but the checkpoint writes "5"/);
  });

  it('are never taken of a cancelled run\'s partial epoch', async () => {
    const m = model();
    const states: TrainingState[] = [];
    const run = m.train(intensities, {
      ...LEGACY_FIT_OPTIONS, epochs: 3, batchSize: B, updatesPerSubmit: 1, onCheckpoint: (s) => void states.push(s),
      onProgress: (p) => {
        if (p.epoch === 1 && p.epochStep === 2) run.cancel();
      },
    });
    const r = await run.result;
    expect(r.cancelled).toBe(true);
    expect(states.map((s) => s.epoch)).toEqual([1]);
  });
});

describe('centered and scheduled checkpoints', () => {
  it('record the offsets and the linear schedule, and read them back', async () => {
    const states: TrainingState[] = [];
    const learningRate = { schedule: 'linear', rate: 0.2 } as const;
    const r = await model().fit(intensities, { ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: B, persistent: true, chains: B, centered: true, learningRate, momentum: 0, onCheckpoint: (s) => void states.push(s) });
    // lr · (1 − e / 2): 0.2 then 0.1.
    expect(r.epochs.map((e) => e.learningRate)).toEqual([0.2, 0.1]);
    const s = states[1];
    expect(s.settings).toMatchObject({ learningRate: 0.2, learningRateDecay: { schedule: 'linear', epochs: 2 }, centered: 0.01 });
    expect(s.offsets?.visible).toHaveLength(V);
    expect(s.offsets?.hidden).toHaveLength(H);
    const loaded = checkpointFromSafetensors(checkpointToSafetensors(s)).state;
    expect(bits(loaded)).toEqual(bits(s));
    expect(loaded.settings).toEqual(s.settings);
    // A state whose offsets went missing is refused.
    expect(() => checkpointToSafetensors({ ...s, offsets: undefined })).toThrow(/offsets.visible must be a Float32Array of 13 values/);
  });

  it('refuse bad schedules and centering options before anything changes', async () => {
    const m = model();
    const o = { epochs: 1, batchSize: B };
    await expect(m.fit(intensities, { ...o, learningRate: { schedule: 'cosine' as 'linear', rate: 0.1 } })).rejects.toThrow(/learningRate.schedule must be one of 'constant', 'linear'/);
    await expect(m.fit(intensities, { ...o, learningRate: { schedule: 'linear', rate: -1 } })).rejects.toThrow(/learningRate.rate must be a finite number ≥ 0/);
    await expect(m.fit(intensities, { ...o, learningRate: { schedule: 'linear', rate: 0.1, epochs: 0 } })).rejects.toThrow(/learningRate.epochs must be a positive integer/);
    await expect(m.fit(intensities, { ...o, centered: { rate: 2 } })).rejects.toThrow(/centered.rate must be a number in \[0, 1\]/);
    const g = RBM.create(device, { visible: V, hidden: H, seed: 5, visibleType: 'gaussian' });
    models.push(g);
    await expect(g.fit(intensities, { ...o, binarize: 'none', centered: true })).rejects.toThrow(/binary \(bernoulli\) visible units only/);
  });
});
