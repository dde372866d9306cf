// The WGSL linker: named modules concatenated with a line map, so compile
// errors name the shader file and line, not a line of the concatenation.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TILE, getKernel, KERNELS, linked, SHADERS, specSource, WgslCompileError, type KernelSpec, type TileShape, type UnitModule,
} from '../../src/gpu/kernels';
import { EVAL_KERNELS } from '../../src/gpu/eval-kernels';
import { PT_KERNELS } from '../../src/gpu/pt-kernels';
import { enableModule, formatMessage, linkWgsl, locate, traceModules, wgslModule } from '../../src/gpu/wgsl-link';
import { UNITS } from '../../src/units';
import { testDevice } from '../helpers/device';

/** Every shader file's text, by path under shaders/ (`rng.wgsl`, `units/gaussian.wgsl`; Vite's glob, so it also runs in the browser project). */
const SHADER_DIR = '../../shaders/';
const SHADER_FILES: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob('../../shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>).map(
    ([path, code]) => [path.slice(SHADER_DIR.length), code],
  ),
);

const SUBGROUP_TILE: TileShape = { wgCols: 16, wgRows: 4, threadRows: 8, vecCols: 2, tileK: 16, shared: false, subgroups: true };
type Factory = (t?: TileShape, unit?: UnitModule) => KernelSpec;
/** The factories that take only a unit module (no tile); the other kernels linked with one take (tile, unit). */
const UNIT_ONLY = new Set<unknown>([KERNELS.freeEnergy, EVAL_KERNELS.aisWeight]);
/** Every kernel with the default and a subgroup tile; those linked with a visible layer once per unit type. */
const SPECS: [string, KernelSpec][] = [KERNELS, EVAL_KERNELS, PT_KERNELS].flatMap((family) =>
  Object.entries(family as unknown as Record<string, Factory>).flatMap(([key, make]): [string, KernelSpec][] => {
    if (UNIT_ONLY.has(make)) {
      const byUnit = make as unknown as (u: UnitModule) => KernelSpec;
      return Object.values(UNITS).map((u): [string, KernelSpec] => [`${key} [${u.name}]`, byUnit(u.wgsl)]);
    }
    const linksUnit = make(DEFAULT_TILE).source?.spans.some((s) => s.module.startsWith('units/')) ?? false;
    const units = linksUnit ? Object.values(UNITS).map((u): [string, UnitModule | undefined] => [` [${u.name}]`, u.wgsl]) : [['', undefined] as const];
    return units.flatMap(([label, unit]): [string, KernelSpec][] => [
      [`${key}${label}`, make(DEFAULT_TILE, unit)],
      [`${key}${label} (subgroups)`, make(SUBGROUP_TILE, unit)],
    ]);
  }),
);

// A kernel whose own module fails on its line 5 (after rng.wgsl and math.wgsl, dozens of lines in).
const BROKEN = wgslModule(
  'broken_test.wgsl',
  [
    '// A kernel with one mistake.',
    '@group(0) @binding(0) var<storage, read_write> out: array<f32>;',
    '@compute @workgroup_size(1)',
    'fn main() {',
    '  out[0] = sigmoid(undefined_value);',
    '}',
    '',
  ].join('\n'),
);

describe('linkWgsl', () => {
  it('concatenates modules in order and maps each line back to its module', () => {
    const a = wgslModule('a.wgsl', 'line a1\nline a2\n');
    const b = wgslModule('b.wgsl', 'line b1\n');
    const c = wgslModule('c.wgsl', 'line c1\nline c2'); // no final newline: the linker adds one
    const l = linkWgsl([a, b, a, c]);
    expect(l.code).toBe('line a1\nline a2\nline b1\nline c1\nline c2\n');
    expect(l.spans).toEqual([
      { module: 'a.wgsl', firstLine: 1, lines: 2 },
      { module: 'b.wgsl', firstLine: 3, lines: 1 },
      { module: 'c.wgsl', firstLine: 4, lines: 2 },
    ]);
    expect(locate(l, 2)).toEqual({ file: 'shaders/a.wgsl', line: 2 });
    expect(locate(l, 3)).toEqual({ file: 'shaders/b.wgsl', line: 1 });
    expect(locate(l, 5)).toEqual({ file: 'shaders/c.wgsl', line: 2 });
    expect(locate(l, 6)).toBeUndefined();
    expect(locate(l, 0)).toBeUndefined();
    expect(() => linkWgsl([a, { name: 'a.wgsl', code: 'other\n' }])).toThrow(/two different modules are named a\.wgsl/);
  });

  it('prints generated modules by their name and formats a message with its source line', () => {
    const l = linkWgsl([enableModule('subgroups'), wgslModule('k.wgsl', 'fn f() {\n  let x = y;\n}\n')]);
    expect(l.code.startsWith('enable subgroups;\n')).toBe(true);
    expect(locate(l, 1)).toEqual({ file: '<enable directives>', line: 1 });
    const text = formatMessage(l, { type: 'error', lineNum: 3, linePos: 11, message: "unresolved value 'y'" }, 'kernel k');
    expect(text).toBe("shaders/k.wgsl:2:11 unresolved value 'y'\n    let x = y;\n            ^");
    const long = formatMessage(l, { type: 'error', lineNum: 3, linePos: 11, length: 1, message: 'm' }, 'kernel k');
    expect(long.endsWith('\n            ^')).toBe(true);
    expect(formatMessage(l, { type: 'error', lineNum: 3, linePos: 7, length: 1, message: 'm' }, 'kernel k').endsWith('      ^')).toBe(true);
    expect(formatMessage(l, { type: 'error', lineNum: 2, linePos: 4, length: 3, message: 'm' }, 'kernel k').endsWith('\n     ^^^')).toBe(true);
    expect(formatMessage(l, { type: 'error', lineNum: 0, linePos: 0, message: 'no position' }, 'kernel k')).toBe('kernel k: no position');
  });

  it('traces a bare concatenation of known shader files back to the files', () => {
    const code = SHADERS.rng.code + 'fn extra() {}\n' + SHADERS.gather.code;
    const t = traceModules(code, '<kernel gather>');
    expect(t.code).toBe(code);
    expect(t.spans.map((s) => s.module)).toEqual(['rng.wgsl', '<kernel gather>', 'gather.wgsl']);
    const rngLines = SHADERS.rng.code.split('\n').length - 1;
    expect(locate(t, rngLines + 2)).toEqual({ file: 'shaders/gather.wgsl', line: 1 });
    expect(traceModules('unknown\ncode\n', '<x>').spans).toEqual([{ module: '<x>', firstLine: 1, lines: 2 }]);
  });
});

describe('kernel sources', () => {
  it.each(SPECS)('%s: linked from shader files, byte for byte', (_, spec) => {
    // Linked specs carry their map; a bare concatenation is traced to the same files.
    const source = specSource(spec);
    expect(source.code).toBe(spec.code);
    for (const s of source.spans) {
      if (s.module === '<enable directives>') continue;
      expect(SHADER_FILES[s.module], `${s.module} is a file in shaders/`).toBeDefined();
      const lines = spec.code.split('\n').slice(s.firstLine - 1, s.firstLine - 1 + s.lines).join('\n') + '\n';
      expect(lines).toBe(SHADER_FILES[s.module]);
    }
  });
});

describe('compile errors', () => {
  it("report the broken module's own file, line and column", async () => {
    const device = await testDevice();
    const spec = {
      name: 'broken_test',
      ...linked(SHADERS.rng, SHADERS.math, BROKEN),
      bindings: { out: 'rw' } as const,
      uniforms: {},
    };
    const error = await getKernel(device, spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WgslCompileError);
    const e = error as WgslCompileError;
    expect(e.message).toMatch(/^WGSL compile error in kernel broken_test:\n/);
    expect(e.diagnostics[0]).toMatch(/^shaders\/broken_test\.wgsl:5:20 .*undefined_value/);
    expect(e.diagnostics[0]).toContain('\n    out[0] = sigmoid(undefined_value);\n                     ^');
    // The concatenation's line number (rng.wgsl and math.wgsl come first) appears nowhere.
    const concatLine = spec.source.spans[2].firstLine + 4;
    expect(e.message).not.toContain(`:${concatLine}:`);
    // A failed compile is not cached: the same spec fails again (and compiles again) on the next call.
    await expect(getKernel(device, spec)).rejects.toThrow(/broken_test\.wgsl:5:/);
  });

  it('are traced to the files for code concatenated by hand', async () => {
    const device = await testDevice();
    const spec = {
      name: 'broken_concat',
      code: SHADERS.rng.code + SHADERS.math.code + BROKEN.code,
      bindings: { out: 'rw' } as const,
      uniforms: {},
    };
    await expect(getKernel(device, spec)).rejects.toThrow(/shaders\/broken_test\.wgsl:5:\d+ /);
  });
});
