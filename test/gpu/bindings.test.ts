// Every kernel descriptor against its linked WGSL: binding names, order and
// kinds from the `@group(0) @binding(N) var<…> name` lines, the fields of each
// uniform binding's struct, and the flag constants the host sets — the kernels
// linked with a visible layer once per unit type. Plus the named bind/pack
// checks: missing or unknown names throw, bytes as packUniform.
import { describe, expect, it } from 'vitest';
import { packUniform } from '../../src/gpu/buffers';
import {
  DEFAULT_TILE, FINITE_FLAG, getKernel, HIDDEN_DIMS, HYPER, KERNELS, packFields, VISIBLE_FLAGS,
  type BindingKind, type KernelSpec, type TileShape, type UnitModule,
} from '../../src/gpu/kernels';
import { EVAL_KERNELS } from '../../src/gpu/eval-kernels';
import { PT_KERNELS } from '../../src/gpu/pt-kernels';
import { POTTS_KERNELS } from '../../src/gpu/potts-kernels';
import { packHyper } from '../../src/rbm/hyper';
import { UNITS } from '../../src/units';
import { testDevice } from '../helpers/device';

const SUBGROUP_TILE: TileShape = { wgCols: 16, wgRows: 4, threadRows: 8, vecCols: 2, tileK: 16, shared: false, subgroups: true };

type Factory = (t?: TileShape, unit?: UnitModule) => KernelSpec;
const FAMILIES: Record<string, Record<string, Factory>> = {
  KERNELS: KERNELS as unknown as Record<string, Factory>,
  EVAL_KERNELS: EVAL_KERNELS as unknown as Record<string, Factory>,
  PT_KERNELS: PT_KERNELS as unknown as Record<string, Factory>,
  POTTS_KERNELS: POTTS_KERNELS as unknown as Record<string, Factory>,
};

/**
 * The factories whose kernels link a visible layer's unit module, with how each
 * takes it: (tile, unit) for the GEMM kernels, (unit) for the others.
 */
const WITH_UNIT: Record<string, 'tile, unit' | 'unit'> = {
  'KERNELS.visible': 'tile, unit',
  'KERNELS.temperedVisible': 'tile, unit',
  'KERNELS.freeEnergy': 'unit',
  'EVAL_KERNELS.aisVisible': 'tile, unit',
  'EVAL_KERNELS.aisWeight': 'unit',
  'PT_KERNELS.visible': 'tile, unit',
};

/** A factory's spec for a tile (ignored by non-GEMM kernels) and, where it takes one, a unit module. */
function make(id: string, factory: Factory, t: TileShape, unit?: UnitModule): KernelSpec {
  const how = WITH_UNIT[id];
  if (how === 'unit') return (factory as unknown as (u?: UnitModule) => KernelSpec)(unit);
  return how === 'tile, unit' ? factory(t, unit) : factory(t);
}

/**
 * Every spec, with the default tile and a subgroup tile (the GEMM kernels link
 * different code for it); those linked with a unit module once per unit type.
 */
const SPECS: [string, KernelSpec][] = Object.entries(FAMILIES).flatMap(([family, kernels]) =>
  Object.entries(kernels).flatMap(([key, factory]) => {
    const id = `${family}.${key}`;
    const units: [string, UnitModule | undefined][] = WITH_UNIT[id]
      ? Object.values(UNITS).map((u): [string, UnitModule] => [` [${u.name}]`, u.wgsl])
      : [['', undefined]];
    return units.flatMap(([label, unit]) => {
      const plain = make(id, factory, DEFAULT_TILE, unit);
      const sub = make(id, factory, SUBGROUP_TILE, unit);
      const out: [string, KernelSpec][] = [[`${id}${label}`, plain]];
      if (sub.code !== plain.code) out.push([`${id}${label} (subgroups)`, sub]);
      return out;
    });
  }),
);

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}

interface WgslBinding {
  index: number;
  name: string;
  kind: BindingKind;
  type: string;
}

function wgslKind(access: string): BindingKind {
  const parts = access.split(',').map((s) => s.trim());
  if (parts[0] === 'uniform') return 'uniform';
  if (parts[0] === 'storage') return parts[1] === 'read_write' ? 'rw' : 'read';
  throw new Error(`unknown address space var<${access}>`);
}

function wgslBindings(code: string): WgslBinding[] {
  const re = /@group\(\s*(\d+)\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<([^>]*)>\s*(\w+)\s*:\s*([^;]+);/g;
  const out: WgslBinding[] = [];
  for (const m of stripComments(code).matchAll(re)) {
    if (m[1] !== '0') throw new Error(`binding ${m[4]} in group ${m[1]}: kernels use group 0 only`);
    out.push({ index: Number(m[2]), kind: wgslKind(m[3]), name: m[4], type: m[5].trim() });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** The fields of `struct name { … }`, in order; throws unless it is defined exactly once. */
function wgslStruct(code: string, name: string): [string, string][] {
  const defs = [...stripComments(code).matchAll(new RegExp(`\\bstruct\\s+${name}\\s*\\{([^}]*)\\}`, 'g'))];
  if (defs.length !== 1) throw new Error(`struct ${name} is defined ${defs.length} times`);
  return [...defs[0][1].matchAll(/(\w+)\s*:\s*([\w<>, ]+?)\s*(?:,|$)/g)].map((m) => [m[1], m[2]]);
}

function wgslConst(code: string, name: string): number {
  const m = new RegExp(`\\bconst\\s+${name}\\s*:\\s*u32\\s*=\\s*(\\w+)u\\s*;`).exec(stripComments(code));
  if (!m) throw new Error(`const ${name}: u32 not found`);
  return Number(m[1]);
}

/** Every way `spec` disagrees with its WGSL (empty when they agree). */
function mismatches(spec: KernelSpec): string[] {
  const problems: string[] = [];
  const found = wgslBindings(spec.code);
  found.forEach((b, i) => {
    if (b.index !== i) problems.push(`binding indices are not 0..n-1: ${found.map((x) => x.index).join(',')}`);
  });
  const declared = Object.entries(spec.bindings);
  const wgsl = found.map((b) => `${b.index}:${b.name}:${b.kind}`).join(' ');
  const host = declared.map(([name, kind], i) => `${i}:${name}:${kind}`).join(' ');
  if (wgsl !== host) problems.push(`bindings: WGSL ${wgsl} / descriptor ${host}`);
  const uniformNames = found.filter((b) => b.kind === 'uniform').map((b) => b.name);
  const described = Object.keys(spec.uniforms);
  if (uniformNames.join(',') !== described.join(',')) {
    problems.push(`uniform structs described for [${described}], WGSL uniforms are [${uniformNames}]`);
  }
  for (const b of found.filter((x) => x.kind === 'uniform')) {
    const fields = spec.uniforms[b.name];
    if (!fields) continue;
    const w = wgslStruct(spec.code, b.type).map(([n, t]) => `${n}:${t}`).join(' ');
    const h = Object.entries(fields).map(([n, t]) => `${n}:${t}`).join(' ');
    if (w !== h) problems.push(`uniform ${b.name} (struct ${b.type}): WGSL ${w} / descriptor ${h}`);
  }
  return problems;
}

describe('kernel descriptors match their WGSL', () => {
  it('covers every kernel family', () => {
    expect(SPECS.length).toBeGreaterThanOrEqual(Object.values(FAMILIES).reduce((n, f) => n + Object.keys(f).length, 0));
  });

  it('knows every kernel that links a unit module, and each links the one it is given', () => {
    for (const [family, kernels] of Object.entries(FAMILIES)) {
      for (const [key, factory] of Object.entries(kernels)) {
        const id = `${family}.${key}`;
        const linksUnit = (make(id, factory, DEFAULT_TILE).source?.spans ?? []).some((s) => s.module.startsWith('units/'));
        expect(linksUnit, `${id} links a unit module: list it in WITH_UNIT`).toBe(id in WITH_UNIT);
        if (!linksUnit) continue;
        for (const unit of Object.values(UNITS)) {
          const modules = make(id, factory, DEFAULT_TILE, unit.wgsl).source!.spans.map((s) => s.module);
          expect(modules.filter((m) => m.startsWith('units/')), id).toEqual([`units/${unit.name}.wgsl`]);
        }
      }
    }
  });

  it.each(SPECS)('%s: binding names, order, kinds and uniform struct fields', (_, spec) => {
    expect(wgslBindings(spec.code).length).toBeGreaterThan(0);
    expect(mismatches(spec)).toEqual([]);
  });

  it('the check notices a descriptor that disagrees with its shader', () => {
    const spec = KERNELS.hidden();
    const { W, c, ...rest } = spec.bindings;
    // W and c swapped: same count and kinds, different order.
    const swapped = { dims: rest.dims, counter: rest.counter, vis: rest.vis, c, W, hid_prob: rest.hid_prob, hid_sample: rest.hid_sample };
    expect(mismatches({ ...spec, bindings: swapped }).join('\n')).toMatch(/bindings: WGSL/);
    const readOnlyOut = { ...spec.bindings, hid_sample: 'read' as const };
    expect(mismatches({ ...spec, bindings: readOnlyOut }).join('\n')).toMatch(/hid_sample:rw.*hid_sample:read/);
    const { seed, phase, ...dimsRest } = spec.uniforms.dims;
    expect(mismatches({ ...spec, uniforms: { dims: { ...dimsRest, seed, phase } } }).join('\n')).toMatch(/uniform dims/);
  });

  it("visible.wgsl's flag bits are VISIBLE_FLAGS", () => {
    const code = KERNELS.visible().code;
    for (const [name, value] of Object.entries(VISIBLE_FLAGS)) expect(wgslConst(code, name), name).toBe(value);
  });

  it("finite_check.wgsl's flag words are FINITE_FLAG", () => {
    const code = KERNELS.finiteCheck().code;
    expect(wgslConst(code, 'PARAMS')).toBe(FINITE_FLAG.params);
    expect(wgslConst(code, 'VELOCITIES')).toBe(FINITE_FLAG.velocities);
    expect(wgslConst(code, 'METRICS')).toBe(FINITE_FLAG.metrics);
  });
});

describe('named uniform packing', () => {
  it('lays fields out in struct order with packUniform bytes (u32, f32, zero padding)', () => {
    const named = packFields(HIDDEN_DIMS, { seed: 9, phase: 5, n_out: 4, n_in: 3, row_offset: 2, rows: 1 });
    expect(new Uint8Array(named)).toEqual(new Uint8Array(packUniform([1, 2, 3, 4, 5, 9])));
    const gather = packFields(KERNELS.gather().uniforms.dims, { batch: 7, n_vis: 8, mode: 2, seed: 0xffffffff, epoch: 3, threshold: 0.3 });
    expect(new Uint8Array(gather)).toEqual(new Uint8Array(packUniform([7, 8, 2, 0xffffffff, 3, { f32: 0.3 }])));
    const clamp = packFields(KERNELS.clamp().uniforms.dims, { count: 12 });
    expect(new Uint8Array(clamp)).toEqual(new Uint8Array(packUniform([12, 0, 0, 0])));
  });

  it('agrees with packHyper on the Hyper struct', () => {
    const h = { learningRate: 0.05, momentum: 0.5, weightDecay: 2e-4, sparsityTarget: 0.2, sparsityCost: 0.01, sparsityDecay: 0.8 };
    const named = packFields(HYPER, {
      learning_rate: h.learningRate, momentum: h.momentum, weight_decay: h.weightDecay, inv_batch: 1 / 10,
      sparsity_target: h.sparsityTarget, sparsity_cost: h.sparsityCost, sparsity_decay: h.sparsityDecay,
    });
    expect(new Uint8Array(named)).toEqual(new Uint8Array(packHyper(h, 10)));
  });

  it('throws on a missing, unknown or padding field, naming the fields', () => {
    const dims = KERNELS.clamp().uniforms.dims;
    expect(() => packFields(dims, {} as never, 'clamp dims')).toThrow(/clamp dims: missing count \(fields: count\)/);
    expect(() => packFields(dims, { count: 1, n: 2 } as never)).toThrow(/unknown n/);
    expect(() => packFields(dims, { count: 1, _pad0: 2 } as never)).toThrow(/unknown _pad0/);
  });
});

describe('named binding', () => {
  it('binds by name and throws on missing or unknown names with the expected ones', async () => {
    const device = await testDevice();
    const kernel = await getKernel(device, KERNELS.clamp());
    const buf = (usage: number) => device.createBuffer({ size: 16, usage });
    const storage = GPUBufferUsage.STORAGE;
    const all = { dims: buf(GPUBufferUsage.UNIFORM), mask: buf(storage), values: buf(storage), vis: buf(storage), vis_prob: buf(storage) };
    try {
      expect(kernel.bind(all)).toBeDefined();
      const { vis: _vis, ...missing } = all;
      expect(() => kernel.bind(missing as never)).toThrow(/kernel clamp bind: missing vis \(bindings: dims, mask, values, vis, vis_prob\)/);
      expect(() => kernel.bind({ ...all, W: all.mask } as never)).toThrow(/kernel clamp bind: unknown W/);
      expect(kernel.pack('dims', { count: 3 }).byteLength).toBe(16);
      expect(() => kernel.pack('hyper' as never, {} as never)).toThrow(/no uniform struct hyper/);
    } finally {
      for (const b of Object.values(all)) b.destroy();
    }
  });
});
