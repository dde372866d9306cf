// `train --checkpoint` and `train --resume`, end to end: two epochs in one run
// and one epoch + a resume to two give byte-equal parameter tensors (the whole
// model file, in fact), for CD-1, PCD-k with its own chain count and sparsity
// across the 'hinton' momentum switch, and parallel tempering; conflicting
// flags and bad checkpoints fail with one clear line.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rbmFromSafetensors } from '../../src/rbm/model-file';
import { checkpointFromSafetensors } from '../../src/rbm/checkpoint';
import { buildCli, lastJson, runCli, writeIdxImages, expectCleanFailure } from './helpers';
import type { CliRun } from './helpers';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-resume-'));
  await buildCli();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectOk(r: CliRun): void {
  expect(r.code, r.stderr).toBe(0);
}

async function tensors(path: string): Promise<Record<'W' | 'b' | 'c', Uint8Array>> {
  const f = rbmFromSafetensors(await readFile(path));
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { W: bytes(f.W), b: bytes(f.b), c: bytes(f.c) };
}

interface Case {
  name: string;
  flags: string[];
  epochs: number;
  split: number;
}

const CASES: Case[] = [
  // The defaults before docs/defaults-sweep.md's switch, spelled out: a linear schedule cannot be split by --epochs.
  { name: 'CD-1', flags: ['--cd', '--batch', '100', '--momentum', 'hinton', '--lr-schedule', 'constant', '--no-centered'], epochs: 2, split: 1 },
  {
    name: "PCD-2 with 7 chains and sparsity, resumed where 'hinton' momentum switches",
    flags: ['--pcd', '--k', '2', '--chains', '7', '--sparsity-cost', '0.1', '--batch', '50', '--momentum', 'hinton', '--lr-schedule', 'constant'],
    epochs: 6,
    split: 5,
  },
  { name: 'parallel tempering with 4 chains', flags: ['--pt', '--replicas', '3', '--chains', '4', '--batch', '100', '--lr-schedule', 'constant'], epochs: 2, split: 1 },
];

describe.each(CASES)('$name', ({ name, flags, epochs, split }) => {
  it(`${epochs} epochs in one run equal ${split} + --resume to ${epochs}`, async () => {
    const tag = name.split(' ')[0];
    const base = ['train', '--limit', '300', '--hidden', '9', ...flags];
    const whole = join(dir, `${tag}-whole.safetensors`);
    const part = join(dir, `${tag}-part.safetensors`);
    const resumed = join(dir, `${tag}-resumed.safetensors`);
    const ckpt = join(dir, `${tag}-ckpt.safetensors`);
    const log = join(dir, `${tag}.jsonl`);
    const wholeLog = join(dir, `${tag}-whole.jsonl`);
    expectOk(await runCli([...base, '--epochs', String(epochs), '--out', whole, '--log', wholeLog]));
    expectOk(await runCli([...base, '--epochs', String(split), '--out', part, '--checkpoint', ckpt, '--log', log]));
    const c = checkpointFromSafetensors(await readFile(ckpt));
    expect(c.state.epoch).toBe(split);
    // Resume with the training flags left out (they come from the checkpoint) but one repeated unchanged.
    const r = await runCli(['train', '--resume', ckpt, '--epochs', String(epochs), '--hidden', '9', '--out', resumed, '--log', log, '--json']);
    expectOk(r);
    const j = lastJson(r);
    expect(j).toMatchObject({ epochs, resumed_from: ckpt, resumed_epochs: split, updates: (epochs - split) * (300 / Number(flags[flags.indexOf('--batch') + 1])) });
    const [a, b] = [await tensors(whole), await tensors(resumed)];
    expect(b.W).toEqual(a.W);
    expect(b.b).toEqual(a.b);
    expect(b.c).toEqual(a.c);
    // Metadata too (history, settings): the files are byte-equal.
    expect(await readFile(resumed)).toEqual(await readFile(whole));
    // The log keeps the earlier epochs' lines; apart from timings it is the whole run's.
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const wholeLines = (await readFile(wholeLog, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.epoch)).toEqual(Array.from({ length: epochs }, (_, e) => e + 1));
    const untimed = (l: Record<string, unknown>) => ({ ...l, seconds: 0, samples_per_second: 0 });
    expect(lines.map(untimed)).toEqual(wholeLines.map(untimed));
    // The resumed run went on checkpointing into the file it resumed.
    expect(checkpointFromSafetensors(await readFile(ckpt)).state.epoch).toBe(epochs);
  });
});

describe('refusals', () => {
  let ckpt: string;
  let model: string;
  beforeAll(async () => {
    ckpt = join(dir, 'r-ckpt.safetensors');
    model = join(dir, 'r-model.safetensors');
    // A constant rate: these checks resume to more epochs than the run had (a linear schedule would refuse that first).
    expectOk(await runCli(['train', '--limit', '300', '--hidden', '9', '--epochs', '1', '--lr-schedule', 'constant', '--out', model, '--checkpoint', ckpt]));
  });

  it('a flag that changes the settings', async () => {
    const r = await runCli(['train', '--resume', ckpt, '--epochs', '2', '--hidden', '10']);
    expectCleanFailure(r, 2, /--hidden 10 conflicts with the checkpoint's settings \(--hidden 9\)/, /--epochs, --out, --checkpoint/);
    const lr = await runCli(['train', '--resume', ckpt, '--lr', '0.2']);
    // Checkpoints spell out the training flags, defaults included.
    expectCleanFailure(lr, 2, /--lr 0.2 conflicts with the checkpoint's settings \(--lr 0.1\)/);
  });

  it('--epochs at or below the epochs done', async () => {
    expectCleanFailure(await runCli(['train', '--resume', ckpt, '--epochs', '1']), 2, /has 1 epoch\(s\) done already; --epochs is the total/);
    expectCleanFailure(await runCli(['train', '--resume', ckpt]), 2, /the run was for 1/);
  });

  it('a truncated checkpoint, a model file, a missing file', async () => {
    const bytes = await readFile(ckpt);
    const cut = join(dir, 'cut.safetensors');
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    expectCleanFailure(await runCli(['train', '--resume', cut, '--epochs', '2']), 1, /--resume .*cut\.safetensors: .*truncated/);
    expectCleanFailure(await runCli(['train', '--resume', model, '--epochs', '2']), 1, /not a training checkpoint/);
    expectCleanFailure(await runCli(['train', '--resume', join(dir, 'none.safetensors'), '--epochs', '2']), 1, /no such file/);
  });

  it('data of another dimension or size', async () => {
    const other = join(dir, 'small-images-idx3-ubyte');
    await writeIdxImages(other, 300, 10, 10);
    const r = await runCli(['train', '--resume', ckpt, '--epochs', '2', '--data', other, '--out', join(dir, 'x.safetensors')]);
    expectCleanFailure(r, 1, /trained on 300 images of 784 values, but --data .* gives 300 of 100/);
  });

  it('--chains without persistent chains, --checkpoint-every without --checkpoint', async () => {
    // PCD is the default: --chains is refused with CD-k.
    expectCleanFailure(await runCli(['train', '--cd', '--chains', '5', '--out', join(dir, 'y.safetensors')]), 2, /--chains only applies to --pcd or --pt/);
    expectCleanFailure(await runCli(['train', '--checkpoint-every', '2', '--out', join(dir, 'y.safetensors')]), 2, /--checkpoint-every only applies to --checkpoint/);
  });
});
