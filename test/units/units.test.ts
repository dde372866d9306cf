// Unit types as layers: each unit type's WGSL functions (shaders/units/<name>.wgsl)
// against its TS descriptor's float64 definitions (src/units/<name>.ts), evaluated
// by a tiny kernel on an odd-sized grid of inputs; the descriptors' host-side
// parts; the registry; and a third unit module, written here, linked into the
// visible kernel unchanged — what adding a unit type asks of the kernels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferOwner, readFloat32 } from '../../src/gpu/buffers';
import {
  DEFAULT_TILE, DEFAULT_UNIT, getKernel, KERNELS, linked, tileCols, tileRows, unitModules, VISIBLE_FLAGS, type KernelSpec, type UnitModule,
} from '../../src/gpu/kernels';
import { EVAL_KERNELS } from '../../src/gpu/eval-kernels';
import { PT_KERNELS } from '../../src/gpu/pt-kernels';
import { wgslModule } from '../../src/gpu/wgsl-link';
import { logZBase } from '../../src/host/ais-math';
import { sigmoid } from '../../src/host/math';
import { normal01, uniform01 } from '../../src/host/philox';
import type { VisibleType } from '../../src/rbm/model-file';
import { UNIT_NAMES, UNITS, unitType, type UnitName, type UnitType } from '../../src/units';
import { dispatchOnce } from '../helpers/dispatch';
import { testDevice } from '../helpers/device';
import { mulberry32 } from '../helpers/random';

let device: GPUDevice;
let owner: BufferOwner;
beforeAll(async () => {
  device = await testDevice();
  owner = new BufferOwner(device, 'unit tests');
});
afterAll(() => owner?.dispose());

/** The functions every unit module defines, with their WGSL signatures. */
const INTERFACE: Record<string, string> = {
  unit_mean: '(x: f32) -> f32',
  unit_sample: '(mean: f32, seed: u32, step: u32, element: u32, phase: u32) -> f32',
  unit_free_energy_term: '(v: f32, b: f32) -> f32',
  unit_add_bias_difference: '(acc: f32, v: f32, b: f32, b_base: f32) -> f32',
};

/** `fn name(params) -> type` of every function a module defines, comments stripped. */
function functions(code: string): Record<string, string> {
  const bare = code.replace(/\/\/[^\n]*/g, '');
  return Object.fromEntries([...bare.matchAll(/\bfn\s+(\w+)\s*(\([^)]*\)\s*->\s*\w+)/g)].map((m) => [m[1], m[2].replace(/\s+/g, ' ').replace('( ', '(')]));
}

const SEED = 0x5eed1;
const STEP = 7;
const PHASE = 3;
// Evaluates each function of the linked unit module on inputs[i] = (x, b, b_base, acc):
// out[i] = (unit_mean(x), unit_free_energy_term(x, b), unit_add_bias_difference(acc, x, b, b_base),
//           unit_sample(unit_mean(x), SEED, STEP, i, PHASE)).
const EVAL_MODULE = wgslModule(
  '<unit functions test>',
  `@group(0) @binding(0) var<storage, read> inputs: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= arrayLength(&inputs)) {
    return;
  }
  let a = inputs[i];
  let mean = unit_mean(a.x);
  out[i] = vec4<f32>(
    mean,
    unit_free_energy_term(a.x, a.y),
    unit_add_bias_difference(a.w, a.x, a.y, a.z),
    unit_sample(mean, ${SEED}u, ${STEP}u, i, ${PHASE}u),
  );
}
`,
);

/** Edge and random inputs (x, b, b_base, acc); 101 of them: not a multiple of the workgroup size. */
function grid(): Float32Array {
  const rand = mulberry32(5);
  const xs = [-1e4, -80, -20, -3.5, -1, -0.25, -1e-3, 0, 1e-3, 0.3, 1, 2.7, 15, 80, 1e4, 0, 1];
  const n = 101;
  const a = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    a[4 * i] = i < xs.length ? xs[i] : (rand() - 0.5) * 12;
    a[4 * i + 1] = (rand() - 0.5) * 6;
    a[4 * i + 2] = (rand() - 0.5) * 6;
    a[4 * i + 3] = (rand() - 0.5) * 4;
  }
  return a;
}

async function evaluate(unit: UnitModule, inputs: Float32Array): Promise<Float32Array> {
  const spec = {
    name: 'unit_functions_test',
    ...linked(...unitModules(unit), EVAL_MODULE),
    bindings: { inputs: 'read', out: 'rw' } as const,
    uniforms: {},
  };
  const inBuf = owner.storage('inputs', inputs);
  const outBuf = owner.storage('out', inputs.length * 4);
  await dispatchOnce(device, spec, { inputs: inBuf, out: outBuf }, Math.ceil(inputs.length / 4 / 64));
  return readFloat32(device, outBuf, inputs.length);
}

/** |got − want| ≤ rel · max(1, scale), scale |want| unless given (the size of the terms a result was summed from). */
function close(got: number, want: number, rel: number, what: string, scale = Math.abs(want)): void {
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(rel * Math.max(1, scale));
}

// Elementwise layers here; Potts units (grouped, with their own group pass and
// descriptor tests in test/units/potts.test.ts) join the interface and kernel checks
// with q = 3 (unitType('potts', 3): its states count matters to the host parts).
const ELEMENTWISE = (Object.values(UNITS) as UnitType[]).filter((u) => !u.grouped);

describe.each([...ELEMENTWISE, unitType('potts', 3)])('unit type $name', (unit) => {
  it('its WGSL module defines exactly the unit interface', () => {
    expect(unit.wgsl.name).toBe(`units/${unit.name}.wgsl`);
    expect(functions(unit.wgsl.code)).toEqual(INTERFACE);
  });

  it('its WGSL functions agree with the TS definitions on an odd-sized grid', async () => {
    const inputs = grid();
    const out = await evaluate(unit.wgsl, inputs);
    for (let i = 0; i < inputs.length / 4; i++) {
      const [x, b, bBase, acc] = inputs.subarray(4 * i, 4 * i + 4);
      const [mean, term, diff, sample] = out.subarray(4 * i, 4 * i + 4);
      close(mean, unit.mean(x), 1e-6, `unit_mean(${x})`);
      close(term, unit.freeEnergyTerm(x, b), 1e-6, `unit_free_energy_term(${x}, ${b})`);
      const d = unit.biasDifference(x, b, bBase);
      close(diff, acc + d, 1e-6, `unit_add_bias_difference(${acc}, ${x}, ${b}, ${bBase})`, Math.abs(acc) + Math.abs(d));
      // The draw from the GPU's own (float32) mean: Bernoulli draws agree exactly, Gaussian ones up to float32 Box–Muller.
      const want = unit.sample(mean, SEED, STEP, i, PHASE);
      if (unit.binary) expect(sample, `unit_sample #${i}`).toBe(want);
      else close(sample, want, 1e-5, `unit_sample #${i}`);
    }
  });

  it("links into every kernel of the visible layer, which compile with it", async () => {
    const specs: KernelSpec[] = [
      KERNELS.visible(DEFAULT_TILE, unit.wgsl),
      KERNELS.temperedVisible(DEFAULT_TILE, unit.wgsl),
      KERNELS.freeEnergy(unit.wgsl),
      EVAL_KERNELS.aisVisible(DEFAULT_TILE, unit.wgsl),
      EVAL_KERNELS.aisWeight(unit.wgsl),
      PT_KERNELS.visible(DEFAULT_TILE, unit.wgsl),
    ];
    for (const spec of specs) {
      expect(spec.source?.spans.map((s) => s.module)).toContain(`units/${unit.name}.wgsl`);
      await expect(getKernel(device, spec)).resolves.toBeDefined();
    }
  });
});

// Elementwise definitions only: grouped (Potts) units define these per site (test/units/potts.test.ts).
describe.each(ELEMENTWISE)('unit type $name: elementwise definitions', (unit) => {
  it('its TS definitions are consistent: the bias difference, the inverse mean, the noise', () => {
    const rand = mulberry32(9);
    for (let t = 0; t < 50; t++) {
      const v = unit.binary ? (rand() < 0.5 ? 0 : 1) : (rand() - 0.5) * 8;
      const b = (rand() - 0.5) * 6;
      const bBase = (rand() - 0.5) * 6;
      close(unit.biasDifference(v, b, bBase), unit.freeEnergyTerm(v, bBase) - unit.freeEnergyTerm(v, b), 1e-12, 'biasDifference');
      const m = unit.binary ? 0.01 + 0.98 * rand() : (rand() - 0.5) * 8;
      close(unit.mean(unit.biasFromMean(m)), m, 1e-12, 'mean(biasFromMean(m))');
    }
    for (let e = 0; e < 20; e++) {
      const noise = unit.noise(3, e, 11);
      if (unit.binary) expect(noise).toBe(unit.sample(0.5, 3, 0, e, 11));
      else expect(noise).toBe(normal01(3, 0, e, 11));
    }
  });

  it('checks states and means as the layer needs, and builds its AIS base model', () => {
    const states = Float32Array.of(0, 1, 1, 0, 0.5, 1);
    if (unit.binary) expect(() => unit.checkStates('s', states, 3)).toThrow(/s is not binary: row 1, column 1 is 0.5/);
    else expect(() => unit.checkStates('s', states, 3)).not.toThrow();
    expect(() => unit.checkStates('s', Float32Array.of(0, 1, NaN), 3)).toThrow(/s holds NaN at index 2|not binary/);
    if (unit.binary) expect(() => unit.checkMeans('m', [0.5, 1.5])).toThrow(/m\[1\] is 1.5/);
    else expect(() => unit.checkMeans('m', [0.5, 1.5, -7])).not.toThrow();

    const data = Float32Array.of(0, 1, 1, 1, 0, 1); // 2 rows × 3 units, binary so both layers take it
    const bA = unit.baseBiases(data, 3, 1);
    expect(bA.length).toBe(3);
    expect(unit.baseLogZ(bA, 5)).toBe(logZBase(bA, 5, !unit.binary));
    if (unit.binary) expect(Array.from(bA)).toEqual([0, 0, Math.log(0.75) - Math.log1p(-0.75)]); // (count + 1) / (2 + 2)
    else expect(Array.from(bA)).toEqual([0.5, 0.5, 1]);
    expect(unit.baseBiasesFromMeans([0.25, 0.5, 0.75], 3).length).toBe(3);
    expect(() => unit.baseBiasesFromMeans([0.5], 3)).toThrow(/has 1 values, the model 3 visible units/);
  });
});

describe('the registry', () => {
  it('holds each unit type under its name, Bernoulli (the default) first', () => {
    expect(UNIT_NAMES).toEqual(['bernoulli', 'gaussian', 'potts']);
    for (const name of UNIT_NAMES) {
      expect(UNITS[name].name).toBe(name);
      expect(unitType(name)).toBe(UNITS[name]);
    }
    expect(() => unitType('ising' as UnitName)).toThrow(/unknown unit type "ising"; known: 'bernoulli', 'gaussian', 'potts'/);
    expect(() => unitType('toString' as UnitName)).toThrow(/unknown unit type/);
  });

  it("names the model file's visible types exactly", () => {
    // Both directions at compile time: a name in one union and not the other fails tsc here.
    const toFile = (u: UnitName): VisibleType => u;
    const fromFile = (v: VisibleType): UnitName => v;
    expect(UNIT_NAMES.map(toFile).map(fromFile)).toEqual(UNIT_NAMES);
  });

  it("gives the kernels' default unit module for Bernoulli units", () => {
    expect(UNITS.bernoulli.wgsl).toEqual(DEFAULT_UNIT);
    expect(KERNELS.visible(DEFAULT_TILE, UNITS.bernoulli.wgsl).code).toBe(KERNELS.visible(DEFAULT_TILE).code);
  });

  it('says which layers parallel tempering and exact enumeration can take', () => {
    expect(UNITS.bernoulli.tempering.supported).toBe(true);
    expect(UNITS.gaussian.tempering).toEqual({ supported: false, reason: expect.stringMatching(/variance 1\/β/) });
    expect(UNITS.bernoulli.exactLogZ).toMatchObject({ enumerable: true, chunkMode: 0 });
    expect(UNITS.gaussian.exactLogZ).toMatchObject({ enumerable: false, chunkMode: 1 });
    expect(UNITS.gaussian.exactLogZ.logConstant(4)).toBeCloseTo(2 * Math.log(2 * Math.PI), 14);
    expect(UNITS.potts.tempering.supported).toBe(false);
    expect(UNITS.potts.exactLogZ).toMatchObject({ enumerable: false, chunkMode: 2 });
    expect(UNITS.bernoulli.mean).toBe(sigmoid);
  });
});

// A third layer the engine does not have: ±1 spin units, p(v = 1 | x) = σ(2x), E[v | x] = tanh(x).
// The visible kernel links it as it is; nothing in the kernel file names a unit type.
const SPIN = wgslModule(
  '<spin units test>',
  `fn unit_mean(x: f32) -> f32 {
  return tanh(x);
}

fn unit_sample(mean: f32, seed: u32, step: u32, element: u32, phase: u32) -> f32 {
  return select(-1.0, 1.0, uniform01(seed, step, element, phase) < (1.0 + mean) * 0.5);
}

fn unit_free_energy_term(v: f32, b: f32) -> f32 {
  return -(b * v);
}

fn unit_add_bias_difference(acc: f32, v: f32, b: f32, b_base: f32) -> f32 {
  return fma(b - b_base, v, acc);
}
`,
);

describe('a new unit type', () => {
  it('is one WGSL module: the visible kernel links a third one unchanged (odd sizes)', async () => {
    expect(functions(SPIN.code)).toEqual(INTERFACE);
    const R = 5;
    const V = 13;
    const H = 7;
    const rand = mulberry32(21);
    const hid = Float32Array.from({ length: R * H }, () => (rand() < 0.5 ? 0 : 1));
    const W = Float32Array.from({ length: V * H }, () => (rand() - 0.5) * 1.5);
    const b = Float32Array.from({ length: V }, () => (rand() - 0.5) * 2);
    const kernel = await getKernel(device, KERNELS.visible(DEFAULT_TILE, SPIN));
    const visProb = owner.storage('vis_prob', R * V * 4);
    const vis = owner.storage('vis', R * V * 4);
    const dims = owner.uniform(
      'dims',
      kernel.pack('dims', {
        rows: R, in_offset: 0, out_offset: 0, n_in: H, n_out: V, phase: PHASE, seed: SEED,
        flags: VISIBLE_FLAGS.WRITE_PROB | VISIBLE_FLAGS.WRITE_SAMPLE,
      }),
    );
    const buffers = {
      dims, counter: owner.storage('counter', Uint32Array.of(STEP, 0, 0, 0)), hid_sample: owner.storage('hid', hid),
      W: owner.storage('W', W), b: owner.storage('b', b), vis_prob: visProb, vis,
    };
    await dispatchOnce(device, KERNELS.visible(DEFAULT_TILE, SPIN), buffers, Math.ceil(V / tileCols(DEFAULT_TILE)), Math.ceil(R / tileRows(DEFAULT_TILE)));
    const [p, s] = await Promise.all([readFloat32(device, visProb, R * V), readFloat32(device, vis, R * V)]);
    for (let m = 0; m < R; m++) {
      for (let n = 0; n < V; n++) {
        let x = b[n];
        for (let k = 0; k < H; k++) x += hid[m * H + k] * W[n * H + k];
        const e = m * V + n;
        close(p[e], Math.tanh(x), 1e-5, `tanh at ${m},${n}`);
        const threshold = Math.fround(Math.fround(1 + p[e]) * 0.5);
        expect(s[e], `spin at ${m},${n}`).toBe(uniform01(SEED, STEP, e, PHASE) < threshold ? 1 : -1);
      }
    }
  });
});
