// `sample --pt`'s ladder flags end to end: the adapted ladder and the
// acceptance before and after in --json, the same seed giving the same run,
// the old fixed ladder on request, and clear errors for bad values.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, expectCleanFailure, lastJson, runCli } from './helpers';

let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-sample-pt-'));
  await buildCli();
  model = join(dir, 'm.safetensors');
  const r = await runCli(['train', '--data', 'mnist', '--limit', '200', '--hidden', '9', '--epochs', '1', '--batch', '50', '--out', model]);
  if (r.code !== 0) throw new Error(`training the test model failed: ${r.stderr}`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const f32 = (x: number): number => Math.fround(x);

describe('sample --pt ladder', () => {
  it('adapts by default from a geometric ladder; reports both ladders and acceptances; the same seed gives the same run', async () => {
    const args = (out: string): string[] => [
      'sample', model, '--pt', '--replicas', '4', '--chains', '6', '--steps', '10',
      '--adapt-sweeps', '40', '--adapt-windows', '4', '--target-acceptance', '0.4', '--seed', '5', '--out', out, '--json',
    ];
    const a = await runCli(args(join(dir, 'a.png')));
    expect(a.code, a.stderr).toBe(0);
    const j = lastJson(a);
    expect(j).toMatchObject({ pt: true, replicas: 4, ladder: 'geometric', base: 'uniform', adapt_sweeps: 40, target_acceptance: 0.4 });
    expect(j.initial_betas).toEqual([1, 0.2 ** (1 / 3), 0.2 ** (2 / 3), 0.2].map(f32));
    const betas = j.betas as number[];
    expect(betas).toHaveLength(4);
    expect(betas[0]).toBe(1);
    for (let m = 1; m < 4; m++) expect(betas[m]).toBeLessThan(betas[m - 1]);
    expect(j.initial_swap_acceptance as number[]).toHaveLength(3);
    expect(j.swap_acceptance as number[]).toHaveLength(3);
    expect(j.adaptation as unknown[]).toHaveLength(4);
    expect(Number.isInteger(j.replicas_for_target)).toBe(true);
    expect(a.stderr + a.stdout).toMatch(/ladder before adaptation: 1 /);

    const b = await runCli(args(join(dir, 'b.png')));
    expect(b.code, b.stderr).toBe(0);
    const k = lastJson(b);
    expect(k.betas).toEqual(j.betas);
    expect(k.swap_acceptance).toEqual(j.swap_acceptance);
    expect(await readFile(join(dir, 'b.png'))).toEqual(await readFile(join(dir, 'a.png')));
  });

  it('--adapt-sweeps 0 --beta-min 0 keeps the old evenly spaced ladder, unadapted; --base visible-bias runs', async () => {
    const r = await runCli([
      'sample', model, '--pt', '--replicas', '4', '--beta-min', '0', '--adapt-sweeps', '0', '--chains', '3', '--steps', '6', '--out', join(dir, 'c.png'), '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    expect(j.ladder).toBe('linear');
    expect(j.betas).toEqual([1, 2 / 3, 1 / 3, 0].map(f32));
    expect(j.initial_betas).toBeUndefined();
    expect(j.adaptation).toBeUndefined();

    const v = await runCli([
      'sample', model, '--pt', '--replicas', '3', '--base', 'visible-bias', '--adapt-sweeps', '8', '--adapt-windows', '2', '--chains', '3', '--steps', '6',
      '--out', join(dir, 'd.png'), '--json',
    ]);
    expect(v.code, v.stderr).toBe(0);
    expect(lastJson(v)).toMatchObject({ base: 'visible-bias', adapt_sweeps: 8 });
  });

  it.each([
    [['--ladder', 'cubic'], /--ladder must be one of geometric, linear/],
    [['--ladder', 'geometric', '--beta-min', '0'], /--beta-min 0 cannot end a geometric ladder.*--ladder linear/],
    [['--target-acceptance', '1'], /--target-acceptance must be/],
    [['--target-acceptance', '0'], /--target-acceptance must be/],
    [['--adapt-sweeps=-1'], /--adapt-sweeps must be an integer in 0\.\./],
    [['--adapt-sweeps', '0', '--target-acceptance', '0.3'], /--adapt-sweeps 0 turns off/],
    [['--adapt-sweeps', '10', '--adapt-windows', '8'], /fewer than 2 sweeps per window.*--adapt-sweeps to at least 16/],
    [['--base', 'data'], /--base must be one of uniform, visible-bias/],
  ])('sample --pt %j fails with a clear error', async (flags, message) => {
    expectCleanFailure(await runCli(['sample', 'm.safetensors', '--pt', ...flags, '--out', 'x.png']), 2, message);
  });

  it.each(['--adapt-sweeps', '--target-acceptance', '--ladder', '--base', '--adapt-windows'])('%s without --pt says to add --pt', async (flag) => {
    const value = { '--ladder': 'linear', '--base': 'uniform', '--target-acceptance': '0.3' }[flag] ?? '10';
    expectCleanFailure(await runCli(['sample', 'm.safetensors', flag, value, '--out', 'x.png']), 2, new RegExp(`${flag} only applies to --pt; add --pt`));
  });
});
