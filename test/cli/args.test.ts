// The CLI's pure helpers, in-process: flag readers and image layout.
import { describe, expect, it } from 'vitest';
import { choiceOption, intOption, numberOption, parseCommand, positionals } from '../../src/cli/args';
import { UsageError } from '../../src/cli/errors';
import { imageShape, weightColumns } from '../../src/cli/images';
import { readTrainSettings } from '../../src/cli/train';

describe('flag readers', () => {
  it('parse and range-check numbers', () => {
    expect(intOption({ n: '12' }, 'n', 1)).toBe(12);
    expect(intOption({}, 'n', 7)).toBe(7);
    for (const bad of ['0', '-3', '1.5', 'x', '', '1e3']) expect(() => intOption({ n: bad }, 'n', 1)).toThrow(UsageError);
    expect(numberOption({ x: '1e-3' }, 'x', 0, { min: 0, above: true })).toBe(0.001);
    expect(() => numberOption({ x: '0' }, 'x', 1, { min: 0, above: true })).toThrow(/--x must be a number > 0, got "0"/);
    expect(() => numberOption({ x: 'NaN' }, 'x', 1)).toThrow(UsageError);
    expect(numberOption({}, 'x', undefined)).toBeUndefined();
    expect(choiceOption({ m: 'b' }, 'm', ['a', 'b'] as const, 'a')).toBe('b');
    expect(() => choiceOption({ m: 'c' }, 'm', ['a', 'b'] as const, 'a')).toThrow(/one of a, b/);
  });

  it('turn parseArgs errors into usage errors naming the flag', () => {
    expect(() => parseCommand('train', ['--nope'], {})).toThrow(/unknown option --nope; run "webgpu-rbm train --help"/);
    expect(() => parseCommand('train', ['--hidden'], { hidden: { type: 'string' } })).toThrow(/--hidden needs a value/);
    const p = parseCommand('sample', ['m.safetensors', '--json'], {});
    expect(positionals(p, 'sample', ['a model'])).toEqual(['m.safetensors']);
    expect(() => positionals(p, 'sample', [])).toThrow(/unexpected argument "m.safetensors"/);
  });

  it('read train settings with defaults and cross-checks', () => {
    const s = readTrainSettings({ out: 'm.safetensors' });
    // The defaults docs/defaults-sweep.md measured best: PCD-1, batch 20, lr 0.1 decaying linearly, no momentum, centered.
    expect(s).toMatchObject({ data: 'mnist', hidden: 256, epochs: 5, batch: 20, k: 1, lr: 0.1, lrSchedule: 'linear', pcd: true, momentum: 0, centered: 0.01, seed: 1 });
    expect(readTrainSettings({ out: 'm', cd: true, 'no-centered': true })).toMatchObject({ pcd: false, centered: undefined });
    expect(readTrainSettings({ out: 'm', momentum: '0.9' }).momentum).toBe(0.9);
    expect(() => readTrainSettings({})).toThrow(/train needs --out/);
    expect(() => readTrainSettings({ out: 'm', 'sparsity-target': '0.05' })).toThrow(/--sparsity-cost/);
    expect(readTrainSettings({ out: 'm', visible: 'gaussian' })).toMatchObject({
      visible: 'gaussian', lr: 0.002, binarize: 'none', batch: 100, pcd: false, momentum: 'hinton', lrSchedule: 'constant', centered: undefined,
    });
    expect(readTrainSettings({ out: 'm', visible: 'gaussian', lr: '0.005' }).lr).toBe(0.005);
    expect(readTrainSettings({ out: 'm', pt: true })).toMatchObject({ pt: true, replicas: 10 });
    expect(() => readTrainSettings({ out: 'm', pt: true, replicas: '1' })).toThrow(/--replicas must be an integer in 2\.\.1000/);
  });
});

describe('image layout', () => {
  it('takes the shape from metadata, else a square, else a strip', () => {
    expect(imageShape({ width: '4', height: '2' }, 8)).toEqual({ width: 4, height: 2 });
    expect(imageShape({ width: '5', height: '2' }, 8)).toEqual({ width: 8, height: 1 });
    expect(imageShape({}, 784)).toEqual({ width: 28, height: 28 });
  });

  it('gathers weight columns of a row-major [V, H] matrix', () => {
    // W = [[1, 2, 3], [4, 5, 6]]: V = 2, H = 3.
    const W = new Float32Array([1, 2, 3, 4, 5, 6]);
    expect(Array.from(weightColumns(W, 2, 3, 2))).toEqual([1, 4, 2, 5]);
  });
});
