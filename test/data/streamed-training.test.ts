// Streaming (src/rbm/streamed-dataset.ts): a training set over dataBudgetBytes
// trains through two GPU blocks refilled from the host each epoch, and must
// end bit-identical to resident training with the same seed — every binarize
// mode (stochastic too: blocks carry their rows' global ids), compact and
// float32 sources, Gaussian units, PCD, centered, parallel tempering, and a
// checkpointed run resumed under streaming. Odd sizes; budgets that force
// several blocks (the last one short) and blocks of a single batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { fitPT } from '../../src/rbm/pt-train';
import type { FitOptions, FitResult } from '../../src/rbm/fit';
import type { TrainingState } from '../../src/rbm/checkpoint';
import { checkSource, SHARD_FLAGS, SHARD_HEADER } from '../../src/rbm/dataset';
import gatherWGSL from '../../shaders/gather.wgsl?raw';
import { blockBytes, planDataPlacement } from '../../src/rbm/streamed-dataset';
import type { DataSource } from '../../src/data/source';
import { testDevice } from '../helpers/device';
import { mulberry32 } from '../helpers/random';
import { LEGACY_FIT_OPTIONS, LEGACY_PT_FIT_OPTIONS } from '../helpers/legacy-fit';

// Wide enough that two blocks take less than the whole set even as bits (a block adds its 4-byte row ids).
const V = 37;
const H = 7;
const N = 83; // 16 batches of 5 per epoch, 3 rows left over
const B = 5;

let device: GPUDevice;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => models.forEach((m) => m.dispose()));

const r = mulberry32(17);
const bytes = Uint8Array.from({ length: N * V }, () => Math.floor(r() * 256));
const u8: DataSource = { format: 'u8', bytes };
const binary = Float32Array.from(bytes, (b) => (b > 127 ? 1 : 0));
const gaussian = Float32Array.from(bytes, (b) => (b - 128) / 40);

/** The budget under which `data` streams in blocks of `rows` rows (a multiple of B). */
function budgetFor(data: DataSource, rows: number, o: { realValued?: boolean } = {}): number {
  const s = checkSource(data, V, o);
  return 2 * blockBytes(s, V, rows) + 4 * s.count;
}

function model(visibleType: 'bernoulli' | 'gaussian' = 'bernoulli'): RBM {
  const m = RBM.create(device, { visible: V, hidden: H, seed: 5, weightScale: 0.3, visibleType });
  models.push(m);
  return m;
}

async function paramBits(m: RBM): Promise<number[]> {
  const p = await m.readParams();
  return Array.from(new Uint32Array(Float32Array.from([...p.W, ...p.b, ...p.c]).buffer));
}

interface Case {
  name: string;
  data: DataSource;
  options: Omit<FitOptions, 'epochs' | 'batchSize'>;
  gaussian?: boolean;
}

const CASES: Case[] = [
  { name: 'u8, threshold, CD-1', data: u8, options: { binarize: 'threshold', k: 1 } },
  { name: 'u8, stochastic, CD-2', data: u8, options: { binarize: 'stochastic', k: 2 } },
  { name: 'float32 0/1 (bits), none, PCD-1 with 7 chains', data: binary, options: { binarize: 'none', persistent: true, chains: 7 } },
  { name: "u8 bytes 0/255 (bits), threshold", data: { format: 'u8', bytes: bytes.map((b) => (b > 127 ? 255 : 0)) }, options: { binarize: 'threshold' } },
  { name: "{ format: 'bits' } bytes, none", data: { format: 'bits', bytes: Uint8Array.from(binary) }, options: { binarize: 'none' } },
  { name: 'u8, stochastic, PCD, centered', data: u8, options: { persistent: true, chains: B, centered: true } },
  { name: 'float32 real values, Gaussian units', data: gaussian, options: { binarize: 'none', learningRate: 0.01 }, gaussian: true },
];

describe('streamed training = resident training, bit for bit', () => {
  it.each(CASES)('$name', async (c) => {
    const run = async (dataBudgetBytes?: number, updatesPerSubmit?: number): Promise<{ bits: number[]; result: FitResult }> => {
      const m = model(c.gaussian ? 'gaussian' : 'bernoulli');
      const result = await m.fit(c.data, {
        ...LEGACY_FIT_OPTIONS, epochs: 3, batchSize: B, learningRate: 0.1, seed: 9, ...c.options, dataBudgetBytes, updatesPerSubmit,
      });
      return { bits: await paramBits(m), result };
    };
    const resident = await run();
    expect(resident.result.data?.kind).toBe('resident');
    // Blocks of 15 rows: 5 × 15 and 5 per epoch; chunks of 2 updates split each block's 3.
    const three = await run(budgetFor(c.data, 15, { realValued: c.gaussian }), 2);
    expect(three.result.data).toMatchObject({ kind: 'streamed', blockRows: 15, blocksPerEpoch: 6 });
    expect(three.bits).toEqual(resident.bits);
    // Blocks of one batch: a block switch at every update.
    const single = await run(budgetFor(c.data, B, { realValued: c.gaussian }));
    expect(single.result.data).toMatchObject({ kind: 'streamed', blockRows: B, blocksPerEpoch: 16 });
    expect(single.bits).toEqual(resident.bits);
  });

  it('parallel tempering streams too', async () => {
    const run = async (dataBudgetBytes?: number): Promise<number[]> => {
      const m = model();
      const res = await fitPT(m, u8, { ...LEGACY_PT_FIT_OPTIONS, epochs: 2, batchSize: B, replicas: 3, learningRate: 0.1, seed: 4, dataBudgetBytes });
      expect(res.data?.kind).toBe(dataBudgetBytes ? 'streamed' : 'resident');
      return paramBits(m);
    };
    expect(await run(budgetFor(u8, 10))).toEqual(await run());
  });
});

describe('checkpoint and resume under streaming', () => {
  it('2 epochs = 1 epoch + resume (streamed), = 2 epochs resident', async () => {
    const base: FitOptions = { ...LEGACY_FIT_OPTIONS, epochs: 2, batchSize: B, persistent: true, chains: B, learningRate: 0.1, seed: 3 };
    const states = async (m: RBM, o: FitOptions): Promise<TrainingState[]> => {
      const out: TrainingState[] = [];
      await m.fit(u8, { ...o, onCheckpoint: (s) => void out.push(s) });
      return out;
    };
    const stateBits = (s: TrainingState): number[] =>
      [s.params.W, s.params.b, s.params.c, s.velocities.W, s.hiddenMean, s.chains ?? new Float32Array()]
        .flatMap((a) => Array.from(new Uint32Array(a.slice().buffer))).concat([s.epoch, s.updates]);
    const budget = budgetFor(u8, 15);
    const whole = await states(model(), { ...base, dataBudgetBytes: budget });
    const first = await states(model(), { ...base, dataBudgetBytes: budget, epochs: 2, checkpointEvery: 1 });
    const resumed = await states(model(), { ...base, dataBudgetBytes: budget, resume: first[0] });
    const resident = await states(model(), base);
    expect(stateBits(resumed.at(-1)!)).toEqual(stateBits(whole.at(-1)!));
    expect(stateBits(resident.at(-1)!)).toEqual(stateBits(whole.at(-1)!));
  });
});

describe('block header', () => {
  it("the row-id field and flag are gather.wgsl's H_ROW_IDS and FLAG_ROW_IDS", () => {
    const constant = (name: string): number => Number(new RegExp(`const\\s+${name}\\s*:\\s*u32\\s*=\\s*(\\w+)u;`).exec(gatherWGSL)?.[1]);
    expect(constant('H_ROW_IDS')).toBe(SHARD_HEADER.rowIds);
    expect(constant('FLAG_ROW_IDS')).toBe(SHARD_FLAGS.rowIds);
  });
});

describe('budgets', () => {
  it('a budget too small for two blocks of one batch names the option and the fix, and changes nothing', async () => {
    const m = model();
    const before = await paramBits(m);
    const need = budgetFor(u8, B);
    const err = await m.fit(u8, { ...LEGACY_FIT_OPTIONS, epochs: 1, batchSize: B, dataBudgetBytes: need - 1 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/^dataBudgetBytes = \d+ .* is too small/);
    expect((err as Error).message).toContain(`raise dataBudgetBytes to at least ${need}, or lower batchSize`);
    expect(await paramBits(m)).toEqual(before);
    // The model is not left locked, and the suggested budget trains.
    const res = await m.fit(u8, { ...LEGACY_FIT_OPTIONS, epochs: 1, batchSize: B, dataBudgetBytes: need });
    expect(res.data).toMatchObject({ kind: 'streamed', blockRows: B });
  });

  it.each([0, 1.5, -1, Number.NaN])('dataBudgetBytes %s is refused', async (bad) => {
    await expect(model().fit(u8, { epochs: 1, batchSize: B, dataBudgetBytes: bad })).rejects.toThrow(/dataBudgetBytes must be a positive whole number/);
  });

  it('plans resident when the set fits, else the largest block of whole batches that fits', () => {
    const s = checkSource(u8, V, {});
    const resident = planDataPlacement(device, s, V, B, 1 << 30);
    expect(resident.kind).toBe('resident');
    const justUnder = planDataPlacement(device, s, V, B, budgetFor(u8, 20) + 3);
    expect(justUnder).toMatchObject({ kind: 'streamed', blockRows: 20, blocksPerEpoch: 4 });
    expect(justUnder.gpuBytes).toBe(budgetFor(u8, 20));
  });
});
