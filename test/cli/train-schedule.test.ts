// `train --lr-schedule linear --centered`: recorded in the model file, the
// --json result and the checkpoint (settings, offsets, the flags a resume
// replays); a resume may not move a linear schedule's end; bad combinations
// fail with one clear line. (Bit-identical resume of both: test/rbm/checkpoint.test.ts.)
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rbmFromSafetensors } from '../../src/rbm/model-file';
import { checkpointFromSafetensors } from '../../src/rbm/checkpoint';
import { DEFAULT_CENTERING_RATE, RECOMMENDED_FIT_OPTIONS } from '../../src/rbm/fit';
import { readTrainSettings } from '../../src/cli/train';
import { buildCli, expectCleanFailure, lastJson, runCli } from './helpers';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-schedule-'));
  await buildCli();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('train defaults', () => {
  it("are the library's RECOMMENDED_FIT_OPTIONS (docs/defaults-sweep.md's winner)", () => {
    const s = readTrainSettings({ out: 'm.safetensors' });
    const r = RECOMMENDED_FIT_OPTIONS;
    expect({ batch: s.batch, k: s.k, pcd: s.pcd, lr: s.lr, lrSchedule: s.lrSchedule, momentum: s.momentum, weightDecay: s.weightDecay, centered: s.centered }).toEqual({
      batch: r.batchSize, k: r.k, pcd: r.persistent, lr: r.learningRate.rate, lrSchedule: r.learningRate.schedule,
      momentum: r.momentum, weightDecay: r.weightDecay, centered: DEFAULT_CENTERING_RATE,
    });
  });
});

describe('train --lr-schedule linear --centered', () => {
  it('records the schedule and the offsets, and a resume keeps the schedule\'s end', async () => {
    const out = join(dir, 'm.safetensors');
    const ckpt = join(dir, 'm.ckpt.safetensors');
    const r = await runCli([
      'train', '--limit', '100', '--hidden', '6', '--epochs', '2', '--batch', '20', '--pcd', '--lr', '0.2',
      '--lr-schedule', 'linear', '--momentum', '0', '--centered', '--centering-rate', '0.05', '--out', out, '--checkpoint', ckpt, '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ lr: 0.2, lr_schedule: 'linear', centered: true, centering_rate: 0.05, method: 'pcd', updates: 10 });
    const meta = rbmFromSafetensors(await readFile(out)).metadata;
    expect(meta).toMatchObject({ lr: '0.2', lr_schedule: 'linear', centered: 'true', centering_rate: '0.05' });
    const { state, metadata } = checkpointFromSafetensors(await readFile(ckpt));
    expect(state.settings).toMatchObject({ learningRate: 0.2, learningRateDecay: { schedule: 'linear', epochs: 2 }, centered: 0.05, momentum: 0 });
    expect(state.offsets?.visible).toHaveLength(784);
    expect(state.offsets?.hidden).toHaveLength(6);
    // The flags a resume replays spell out how it trains, defaults included.
    expect(JSON.parse(metadata.train_flags)).toMatchObject({ 'lr-schedule': 'linear', centered: true, 'centering-rate': '0.05', pcd: true, batch: '20' });
    expectCleanFailure(await runCli(['train', '--resume', ckpt, '--epochs', '3', '--out', out]), 2, /--epochs 3 conflicts with the checkpoint's linear --lr-schedule/);
  });

  it('--no-centered trains the plain gradient (fit\'s own default for binary units is centered)', async () => {
    const out = join(dir, 'plain.safetensors');
    const ckpt = join(dir, 'plain.ckpt.safetensors');
    const r = await runCli(['train', '--limit', '100', '--hidden', '6', '--epochs', '1', '--no-centered', '--out', out, '--checkpoint', ckpt, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ centered: false, method: 'pcd' });
    const { state } = checkpointFromSafetensors(await readFile(ckpt));
    expect(state.settings.centered).toBeUndefined();
    expect(state.offsets).toBeUndefined();
  });

  it('refuses contradictory or unsupported combinations with one line', async () => {
    const out = join(dir, 'x.safetensors');
    expectCleanFailure(await runCli(['train', '--visible', 'gaussian', '--centered', '--out', out]), 2, /--centered supports binary \(bernoulli\) visible units only/);
    expectCleanFailure(await runCli(['train', '--cd', '--pcd', '--out', out]), 2, /--cd and --pcd are two different negative phases/);
    expectCleanFailure(await runCli(['train', '--centered', '--no-centered', '--out', out]), 2, /contradict/);
    expectCleanFailure(await runCli(['train', '--lr-schedule', 'cosine', '--out', out]), 2, /--lr-schedule must be one of constant, linear/);
  });
});
