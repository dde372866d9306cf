// train --data-budget: a training set over the budget is streamed in blocks
// (docs/streaming.md), and the model is bit-identical to a resident run's.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rbmFromSafetensors } from '../../src/rbm/model-file';
import { buildCli, expectCleanFailure, lastJson, runCli } from './helpers';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-budget-'));
  await buildCli();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = ['train', '--data', 'mnist', '--limit', '300', '--hidden', '8', '--epochs', '2', '--batch', '50', '--json'];

describe('train --data-budget', () => {
  it('streams a set over the budget and trains the same model as the resident run', async () => {
    const resident = join(dir, 'resident.safetensors');
    const streamed = join(dir, 'streamed.safetensors');
    const a = await runCli([...base, '--out', resident]);
    expect(a.code, a.stderr).toBe(0);
    expect(lastJson(a).data_placement).toMatchObject({ kind: 'resident', shards: 1 });
    // 300 digits × 784 bytes = 235 kB resident; 100 kB leaves room for two blocks of one batch.
    const b = await runCli([...base, '--data-budget', '100kB', '--out', streamed]);
    expect(b.code, b.stderr).toBe(0);
    const placement = lastJson(b).data_placement as { kind: string; blockRows: number; blocksPerEpoch: number; gpuBytes: number };
    expect(placement).toMatchObject({ kind: 'streamed', blockRows: 50, blocksPerEpoch: 6 });
    expect(placement.gpuBytes).toBeLessThanOrEqual(100_000);
    const ra = rbmFromSafetensors(new Uint8Array(await readFile(resident)));
    const rb = rbmFromSafetensors(new Uint8Array(await readFile(streamed)));
    expect(Buffer.from(rb.W.buffer)).toEqual(Buffer.from(ra.W.buffer));
    expect(Buffer.from(rb.b.buffer)).toEqual(Buffer.from(ra.b.buffer));
    expect(Buffer.from(rb.c.buffer)).toEqual(Buffer.from(ra.c.buffer));
  });

  it('refuses a budget too small for two batches, and sizes it cannot read, naming the flag', async () => {
    expectCleanFailure(await runCli([...base, '--data-budget', '1kB', '--out', join(dir, 'x.safetensors')]), 2, /--data-budget = 1000 .*is too small.*raise --data-budget to at least \d+, or lower --batch/);
    expectCleanFailure(await runCli([...base, '--data-budget', '12XB', '--out', join(dir, 'x.safetensors')]), 2, /--data-budget must be a size in bytes, e\.g\. 256MB/);
    expectCleanFailure(await runCli([...base, '--data-budget', '0', '--out', join(dir, 'x.safetensors')]), 2, /--data-budget must be a size in bytes/);
    // A stack's layers name the flags too (the library's OptionError lists its options), with PT training.
    const tooSmall = /--data-budget = 1000 .*is too small.*raise --data-budget to at least \d+, or lower --batch/;
    const stack = base.filter((a, i) => a !== '--hidden' && base[i - 1] !== '--hidden');
    expectCleanFailure(await runCli([...stack, '--stack', '8,4', '--data-budget', '1kB', '--out', join(dir, 's.safetensors')]), 2, tooSmall);
    expectCleanFailure(await runCli([...base, '--pt', '--data-budget', '1kB', '--out', join(dir, 'p.safetensors')]), 2, tooSmall);
  });
});
