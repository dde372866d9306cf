// The built `webgpu-rbm` command end to end: help, train on the bundled digits
// and on an IDX file, sample and eval on the trained model, and bad input.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rbmFromSafetensors } from '../../src/rbm/model-file';
import { buildCli, CLI, lastJson, ROOT, runCli, writeIdxImages, expectCleanFailure } from './helpers';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-cli-'));
  await buildCli();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pngSize(path: string): Promise<[number, number]> {
  const png = decode(await readFile(path));
  expect(png.channels).toBe(1);
  return [png.width, png.height];
}

describe('help', () => {
  it('prints the commands', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['train', 'sample', 'eval']) expect(r.stdout).toContain(c);
  });

  it.each([
    ['train', ['--log', '--hidden', '--epochs', '--batch', '--pcd', '--pt', '--replicas', '--beta-min', '--visible', '--eval-every', '--ais-betas', '--ais-runs', '--lr', '--momentum', '--filters', '--samples', '--limit', '--json']],
    ['sample', ['--chains', '--steps', '--keep-every', '--pt', '--replicas', '--beta-min', '--out', '--json']],
    ['eval', ['--data', '--test', '--exact', '--ais', '--betas', '--runs', '--reverse', '--pll', '--json']],
  ])('%s --help lists its options', async (command, flags) => {
    const r = await runCli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: webgpu-rbm ${command}`);
    for (const f of flags) expect(r.stdout).toContain(f);
  });

  it('with no command, prints help on stderr and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: webgpu-rbm');
  });
});

describe('the bin launcher', () => {
  it('says how to build the CLI when dist/cli is missing, and runs it once built', async () => {
    const pkg = join(dir, 'pkg');
    await mkdir(join(pkg, 'bin'), { recursive: true });
    await copyFile(join(ROOT, 'bin/webgpu-rbm.js'), join(pkg, 'bin/webgpu-rbm.js'));
    const launch = (): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [join(pkg, 'bin/webgpu-rbm.js'), '--help'], { encoding: 'utf8' });
    const missing = launch();
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('npm run build:cli');
    await mkdir(join(pkg, 'dist/cli'), { recursive: true });
    await copyFile(CLI, join(pkg, 'dist/cli/webgpu-rbm.js'));
    await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    const built = launch();
    expect(built.status, String(built.stderr)).toBe(0);
    expect(built.stdout).toContain('Usage: webgpu-rbm <command>');
  });
});

describe('train → sample → eval on the bundled digits', () => {
  let model: string;

  it('train --json trains, writes the model and the PNGs', async () => {
    model = join(dir, 'mnist.safetensors');
    const log = join(dir, 'logs', 'train.jsonl');
    const filters = join(dir, 'png', 'filters.png'); // a folder that does not exist yet
    const samples = join(dir, 'png', 'samples.png');
    const r = await runCli([
      'train', '--data', 'mnist', '--limit', '1000', '--hidden', '16', '--epochs', '2', '--batch', '50', '--lr', '0.1',
      // The defaults before docs/defaults-sweep.md's switch, spelled out (the metadata below pins them).
      '--cd', '--momentum', 'hinton', '--lr-schedule', 'constant', '--no-centered',
      '--out', model, '--filters', filters, '--samples', samples, '--sample-steps', '20', '--json', '--log', log,
    ]);
    expect(r.code, r.stderr).toBe(0);
    // stdout is exactly the JSON line; the epoch lines went to stderr.
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/epoch 2\/2 +recon/);
    const j = lastJson(r);
    expect(j).toMatchObject({ visible: 784, hidden: 16, epochs: 2, width: 28, height: 28, train_count: 1000, test_count: 2000, out: model });
    expect(j.seconds).toBeGreaterThan(0);
    expect(j.samples_per_second).toBeGreaterThan(0);
    // Training time apart from set-up and evaluation: the rate is of updates over the loop's own time.
    expect(j.setup_seconds).toBeGreaterThan(0);
    expect(j.eval_seconds).toBeGreaterThan(0);
    expect(j.samples_per_second as number).toBeCloseTo((j.updates as number) * 50 / (j.seconds as number), 3);
    const epochSeconds = (j.epoch_seconds as number[]).reduce((x, y) => x + y, 0);
    expect(j.seconds as number).toBeGreaterThanOrEqual(epochSeconds * 0.999);
    const recon = j.recon_error as number[];
    expect(recon).toHaveLength(2);
    expect(recon[1]).toBeLessThan(recon[0]);
    expect(j.free_energy_gap as number[]).toHaveLength(2);
    expect((j.free_energy_gap as number[]).every(Number.isFinite)).toBe(true);
    // --log: one JSON line per epoch, with the epoch's own numbers.
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.epoch, l.updates])).toEqual([[1, 20], [2, 40]]);
    expect(lines.map((l) => l.recon_error)).toEqual(recon);
    expect(lines.map((l) => l.free_energy_gap)).toEqual(j.free_energy_gap);
    expect(lines.map((l) => l.seconds)).toEqual(j.epoch_seconds);
    for (const l of lines) expect(l.samples_per_second).toBeGreaterThan(0);

    const file = rbmFromSafetensors(await readFile(model));
    expect([file.visible, file.hidden]).toEqual([784, 16]);
    expect(file.metadata).toMatchObject({
      visible: 'bernoulli', visible_units: '784', hidden_units: '16', epochs: '2', batch: '50', k: '1',
      pcd: 'false', lr: '0.1', momentum: 'hinton', weight_decay: '0.0001', seed: '1', data: 'mnist', width: '28', height: '28',
    });
    expect(JSON.parse(file.metadata.recon_error)).toEqual(recon);
    // No date: the same seed and settings give the same bytes (test/cli/safety.test.ts).
    expect(file.metadata.date).toBeUndefined();

    // 16 filters: a 4×4 grid of 28×28 tiles with 1-pixel gaps; 100 samples: 10×10.
    expect(await pngSize(filters)).toEqual([4 * 29 + 1, 4 * 29 + 1]);
    expect(await pngSize(samples)).toEqual([10 * 29 + 1, 10 * 29 + 1]);
  });

  it('sample --keep-every writes one row per kept step', async () => {
    const out = join(dir, 'chains.png');
    const r = await runCli(['sample', model, '--chains', '6', '--steps', '20', '--keep-every', '5', '--seed', '3', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ chains: 6, steps: 20, kept: 4, width: 28, height: 28, out });
    expect(await pngSize(out)).toEqual([6 * 29 + 1, 4 * 29 + 1]);
  });

  it('sample without --keep-every lays the last states out as a square', async () => {
    const out = join(dir, 'last.png');
    const r = await runCli(['sample', model, '--chains', '9', '--steps', '5', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('wrote');
    expect(await pngSize(out)).toEqual([3 * 29 + 1, 3 * 29 + 1]);
  });

  it('eval reports free energy, the gap to the held-out digits, and reconstruction error', async () => {
    const r = await runCli(['eval', model, '--data', 'mnist', '--limit', '500', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    expect(j).toMatchObject({ command: 'eval', visible: 784, hidden: 16, data: 'mnist', count: 500, test_count: 2000 });
    for (const k of ['mean_free_energy', 'test_mean_free_energy', 'free_energy_gap', 'recon_error']) {
      expect(Number.isFinite(j[k]), k).toBe(true);
    }
    expect(j.recon_error).toBeGreaterThan(0);
    expect(j.recon_error).toBeLessThan(0.25);
  });

  it('eval on images of another size explains the mismatch', async () => {
    const idx = join(dir, 'small.idx');
    await writeIdxImages(idx, 8, 4, 4);
    expectCleanFailure(await runCli(['eval', model, '--data', idx]), 1, /784 visible units/, /4×4 = 16 pixels/);
  });
});

describe('train on an IDX file', () => {
  it('uses the file\'s image size, a --test file, and writes a usable model', async () => {
    const data = join(dir, 'train-images-idx3-ubyte');
    const test = join(dir, 'test-images-idx3-ubyte.gz');
    await writeIdxImages(data, 40, 4, 4, 7);
    await writeIdxImages(test, 12, 4, 4, 9);
    const model = join(dir, 'small.safetensors');
    const samples = join(dir, 'small-samples.png');
    const r = await runCli([
      'train', '--data', data, '--test', test, '--hidden', '5', '--epochs', '2', '--batch', '8', '--k', '2', '--pcd',
      '--momentum', '0.5', '--binarize', 'threshold', '--seed', '42', '--out', model, '--samples', samples, '--sample-steps', '10', '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    expect(j).toMatchObject({ visible: 16, hidden: 5, width: 4, height: 4, epochs: 2, train_count: 40, test_count: 12, pcd: true, k: 2, momentum: 0.5 });
    expect(j.recon_error as number[]).toHaveLength(2);
    expect(j.free_energy_gap as number[]).toHaveLength(2);
    const file = rbmFromSafetensors(await readFile(model));
    expect(file.metadata).toMatchObject({ width: '4', height: '4', pcd: 'true', k: '2', seed: '42', data, binarize: 'threshold' });
    expect(await pngSize(samples)).toEqual([10 * 5 + 1, 10 * 5 + 1]);

    // Without --test an IDX run has no gap to report.
    const r2 = await runCli(['train', '--data', data, '--hidden', '3', '--epochs', '1', '--batch', '10', '--out', join(dir, 'tiny.safetensors'), '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(lastJson(r2).free_energy_gap).toBeUndefined();
  });
});

describe('bad input', () => {
  const out = (): string => join(dir, 'never.safetensors');

  it('a missing data file (exit 1)', async () => {
    expectCleanFailure(await runCli(['train', '--data', join(dir, 'nope.idx'), '--out', out()]), 1, /nope\.idx/, /no such file/, /--data mnist/);
  });

  it('a malformed IDX file (exit 1)', async () => {
    const bad = join(dir, 'bad.idx');
    await writeFile(bad, 'this is not an IDX file at all');
    expectCleanFailure(await runCli(['train', '--data', bad, '--out', out()]), 1, /bad\.idx/, /not an IDX file/);
  });

  it('a truncated gzipped IDX file (exit 1)', async () => {
    const good = join(dir, 'ok.idx.gz');
    await writeIdxImages(good, 10, 4, 4);
    const bytes = await readFile(good);
    const cut = join(dir, 'cut.idx.gz');
    await writeFile(cut, bytes.subarray(0, bytes.length - 20));
    expectCleanFailure(await runCli(['train', '--data', cut, '--out', out()]), 1, /cut\.idx\.gz/);
  });

  it('an unknown flag (exit 2)', async () => {
    expectCleanFailure(await runCli(['train', '--hiden', '5', '--out', out()]), 2, /unknown option --hiden/, /--help/);
  });

  it('an unknown command (exit 2)', async () => {
    expectCleanFailure(await runCli(['trian']), 2, /unknown command "trian"/);
  });

  it.each([
    [['--hidden', '0'], /--hidden must be a positive integer, got "0"/],
    [['--epochs', 'ten'], /--epochs must be a positive integer/],
    [['--lr=-1'], /--lr must be a number > 0, got "-1"/],
    [['--lr', '-1'], /--lr needs a value \(for a value starting with "-" write --lr=-X\)/],
    [['--pcd=yes'], /--pcd takes no value/],
    [['--momentum', '1.5'], /--momentum must be a number in \[0, 1\) or "hinton", got "1.5"/],
    [['--binarize', 'maybe'], /--binarize must be one of stochastic, threshold/],
    [['--batch'], /--batch needs a value/],
  ])('train %j (exit 2)', async (flags, message) => {
    expectCleanFailure(await runCli(['train', ...flags, '--out', out()]), 2, message);
  });

  it('under --json a failure is still one JSON object on stdout', async () => {
    const r = await runCli(['train', '--hidden', '0', '--out', out(), '--json']);
    expectCleanFailure(r, 2, /--hidden/);
    expect(lastJson(r)).toMatchObject({ command: 'train', exit_code: 2, error: expect.stringContaining('--hidden must be a positive integer') });
  });

  it('train without --out (exit 2)', async () => {
    expectCleanFailure(await runCli(['train', '--hidden', '4']), 2, /--out/);
  });

  it('a batch larger than the data (exit 2)', async () => {
    const data = join(dir, 'few.idx');
    await writeIdxImages(data, 5, 4, 4);
    expectCleanFailure(await runCli(['train', '--data', data, '--batch', '10', '--out', out()]), 2, /--batch 10 is larger than the 5 training images/);
  });

  it('sample: a missing model file (exit 1) and a missing model argument (exit 2)', async () => {
    expectCleanFailure(await runCli(['sample', join(dir, 'none.safetensors'), '--out', join(dir, 's.png')]), 1, /none\.safetensors/, /no such file/);
    expectCleanFailure(await runCli(['sample', '--out', join(dir, 's.png')]), 2, /needs a model file/);
  });

  it('eval: a file that is not a model (exit 1)', async () => {
    const notModel = join(dir, 'not-a-model.safetensors');
    await writeFile(notModel, 'garbage');
    expectCleanFailure(await runCli(['eval', notModel]), 1, /not-a-model\.safetensors/);
  });
});
