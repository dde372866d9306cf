// The log-likelihood, Gaussian and parallel-tempering parts of the CLI, end to
// end on small models: eval --exact / --ais / --pll, train --eval-every,
// train/sample --visible gaussian (real Fashion-MNIST when installed), and
// train/sample --pt, plus the flag combinations that make no sense.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logZExact } from '../reference/exact';
import { rbmFromSafetensors } from '../../src/rbm/model-file';
import { buildCli, cliMessages, lastJson, runCli } from './helpers';

const FASHION = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';

let dir: string;
/** A 784-10 RBM trained with --eval-every 1 (exact log Z). */
let small: string;
/** Its log Z by float64 enumeration of the saved parameters. */
let smallLogZ: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-loglik-'));
  await buildCli();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const num = (x: unknown): number => x as number;

describe('train --eval-every and eval --exact / --ais / --pll', () => {
  it('train --eval-every reports exact log-likelihoods as arrays', async () => {
    small = join(dir, 'small.safetensors');
    const r = await runCli([
      'train', '--data', 'mnist', '--limit', '400', '--hidden', '10', '--epochs', '3', '--batch', '50',
      '--eval-every', '2', '--out', small, '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/epoch 2\/3 .*log-lik train -\d+.* test -\d+.*\(exact\)/);
    const j = lastJson(r);
    expect(j).toMatchObject({ eval_every: 2, log_z_method: 'exact', eval_epochs: [2, 3] });
    for (const key of ['log_z', 'train_log_likelihood', 'test_log_likelihood']) {
      const a = j[key] as number[];
      expect(a, key).toHaveLength(2);
      expect(a.every(Number.isFinite), key).toBe(true);
    }
    expect((j.train_log_likelihood as number[])[1]).toBeLessThan(0);
    const file = rbmFromSafetensors(new Uint8Array(await readFile(small)));
    expect(JSON.parse(file.metadata.log_z)).toEqual(j.log_z);
  });

  it('train --eval-every --eval-method trajectory: AIS along the run\'s own epochs, close to the exact log Z', async () => {
    const model = join(dir, 'trajectory.safetensors');
    const r = await runCli([
      'train', '--data', 'mnist', '--limit', '400', '--hidden', '10', '--epochs', '3', '--batch', '50',
      '--eval-every', '1', '--eval-method', 'trajectory', '--ais-runs', '50', '--out', model, '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/epoch 3\/3 .*log-lik train -\d+.*\(trajectory AIS \d+×50/);
    const j = lastJson(r);
    expect(j).toMatchObject({ eval_every: 1, log_z_method: 'trajectory', eval_epochs: [1, 2, 3] });
    const file = rbmFromSafetensors(new Uint8Array(await readFile(model)));
    const exact = logZExact(file);
    const logZ = j.log_z as number[];
    const low = j.log_z_low as number[];
    const high = j.log_z_high as number[];
    // The last estimate is of the saved model: forward AIS, so a (stochastic) lower side.
    expect(Math.abs(logZ[2] - exact)).toBeLessThan(0.5);
    expect(low[2]).toBeLessThanOrEqual(exact + 0.05);
    expect(high[2]).toBeGreaterThan(low[2]);
  });

  it('eval --exact matches the CPU enumeration of the saved parameters, with --pll', async () => {
    const r = await runCli(['eval', small, '--data', 'mnist', '--exact', '--pll', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    const file = rbmFromSafetensors(new Uint8Array(await readFile(small)));
    const cpu = logZExact(file);
    smallLogZ = cpu;
    expect(j.method).toBe('exact');
    expect(Math.abs(num(j.log_z) - cpu)).toBeLessThan(1e-2);
    expect(j.log_z_low).toBe(j.log_z);
    expect(j.log_z_high).toBe(j.log_z);
    expect(num(j.avg_log_likelihood)).toBeCloseTo(-num(j.mean_free_energy) - num(j.log_z), 6);
    expect(num(j.test_avg_log_likelihood)).toBeCloseTo(-num(j.test_mean_free_energy) - num(j.log_z), 6);
    expect(Number.isFinite(num(j.pseudo_log_likelihood))).toBe(true);
    expect(num(j.pseudo_log_likelihood)).toBeLessThan(0);
    expect(r.stderr).toMatch(/avg log-likelihood +-\d/);
  });

  // eval --ais is two-sided since issue 15: log_z_low/high are the band of forward and
  // reverse AIS (reverse from exact model samples here), no longer forward AIS's ±3σ.
  it('eval --ais --betas N: forward and reverse AIS on a fixed schedule bracket the exact log Z', async () => {
    const exact = smallLogZ;
    const r = await runCli(['eval', small, '--data', 'mnist', '--ais', '--betas', '300', '--runs', '50', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    expect(j).toMatchObject({ method: 'ais', ais_betas: 300, ais_runs: 50, ais_stop: 'fixed', ais_reverse_start: 'exact', ais_tolerance: 0.3 });
    expect(num(j.ais_seconds)).toBeGreaterThan(0);
    expect(typeof j.ais_converged).toBe('boolean');
    expect(j.ais_rounds as unknown[]).toHaveLength(1);
    const tol = 1e-3;
    expect(num(j.log_z_low) - tol).toBeLessThanOrEqual(exact);
    expect(num(j.log_z_high) + tol).toBeGreaterThanOrEqual(exact);
    expect(num(j.log_z_gap)).toBeCloseTo(num(j.log_z_reverse) - num(j.log_z_forward), 10);
    expect(num(j.log_z)).toBeCloseTo((num(j.log_z_reverse) + num(j.log_z_forward)) / 2, 10);
    for (const k of ['ess_forward', 'ess_reverse']) {
      expect(num(j[k]), k).toBeGreaterThanOrEqual(1);
      expect(num(j[k]), k).toBeLessThanOrEqual(50);
    }
    expect(num(j.avg_log_likelihood_low)).toBeLessThanOrEqual(num(j.avg_log_likelihood_high));
    expect(r.stderr).toMatch(/forward AIS .*lower bound/);
    expect(r.stderr).toMatch(/reverse AIS .*upper bound from exact model samples/);
    // The enumeration behind the exact starts gives the exact log Z too.
    expect(Math.abs(num(j.log_z_enumerated) - exact)).toBeLessThan(1e-2);
    expect(r.stderr).toMatch(/enumerated log Z +\d/);
  });

  it('eval --ais by default refines the schedule until the band is within 0.3 nats, and says so', async () => {
    const exact = smallLogZ;
    const r = await runCli(['eval', small, '--data', 'mnist', '--ais', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    expect(j).toMatchObject({ method: 'ais', ais_converged: true, ais_stop: 'converged', ais_runs: 100 });
    const rounds = j.ais_rounds as { betas: number }[];
    expect(rounds.map((x) => x.betas)).toEqual(rounds.map((_, i) => 1000 * 2 ** i));
    expect(j.ais_betas).toBe(rounds[rounds.length - 1].betas);
    expect(Math.abs(num(j.log_z) - exact)).toBeLessThan(0.3);
    expect(num(j.log_z_low)).toBeLessThanOrEqual(exact);
    expect(num(j.log_z_high)).toBeGreaterThanOrEqual(exact);
    expect(num(j.log_z) - num(j.log_z_low)).toBeLessThanOrEqual(0.3);
    expect(num(j.log_z_high) - num(j.log_z)).toBeLessThanOrEqual(0.3);
    expect(r.stderr).toMatch(/AIS 1000 βs × 100: forward/);
    expect(r.stderr).not.toMatch(/did not converge/);
  });

  it('eval --exact on a layer too large to enumerate suggests --ais (exit 2)', async () => {
    const big = join(dir, 'big.safetensors');
    const t = await runCli(['train', '--data', 'mnist', '--limit', '100', '--hidden', '30', '--epochs', '1', '--batch', '50', '--out', big]);
    expect(t.code, t.stderr).toBe(0);
    const r = await runCli(['eval', big, '--data', 'mnist', '--limit', '100', '--exact']);
    expect(r.code).toBe(2);
    expect(cliMessages(r)).toHaveLength(1);
    expect(cliMessages(r)[0]).toMatch(/30 units.*--ais/);
  });
});

describe('--visible gaussian', () => {
  it('trains on real Fashion-MNIST, stores its standardisation, samples and evaluates', async () => {
    // The first 300 images of the Fashion-MNIST test set as a small IDX file.
    const raw = gunzipSync(await readFile(FASHION));
    const n = 300;
    const idx = Buffer.concat([raw.subarray(0, 16), raw.subarray(16, 16 + n * 784)]);
    idx.writeUInt32BE(n, 4);
    const data = join(dir, 'fashion-300-images-idx3-ubyte');
    await writeFile(data, idx);
    const model = join(dir, 'gauss.safetensors');
    const r = await runCli([
      'train', '--data', data, '--visible', 'gaussian', '--hidden', '8', '--epochs', '2', '--batch', '50',
      '--eval-every', '1', '--out', model, '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r);
    expect(j).toMatchObject({ visible_type: 'gaussian', lr: 0.002, binarize: 'none', log_z_method: 'exact' });
    expect((j.train_log_likelihood as number[]).every(Number.isFinite)).toBe(true);
    const file = rbmFromSafetensors(new Uint8Array(await readFile(model)));
    expect(file.visibleType).toBe('gaussian');
    expect(file.metadata.visible).toBe('gaussian');
    expect(JSON.parse(file.metadata.standardize_mean)).toHaveLength(784);
    expect(JSON.parse(file.metadata.standardize_std)).toHaveLength(784);

    const png = join(dir, 'gauss.png');
    const s = await runCli(['sample', model, '--chains', '4', '--steps', '10', '--out', png, '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(lastJson(s).visible_type).toBe('gaussian');
    expect(existsSync(png)).toBe(true);

    const e = await runCli(['eval', model, '--data', data, '--exact', '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(Number.isFinite(num(lastJson(e).avg_log_likelihood))).toBe(true);
  });
});

describe('--pt', () => {
  it('train --pt reports swap acceptance per pair and epoch; sample --pt too', async () => {
    const model = join(dir, 'pt.safetensors');
    const r = await runCli([
      'train', '--data', 'mnist', '--limit', '600', '--hidden', '12', '--epochs', '2', '--batch', '50',
      '--pt', '--replicas', '4', '--beta-min', '0.9', '--out', model, '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/epoch 1\/2 .*swaps/);
    const j = lastJson(r);
    expect(j).toMatchObject({ method: 'pt', pt: true, replicas: 4 });
    const acc = j.swap_acceptance as number[];
    expect(acc).toHaveLength(3);
    for (const a of acc) {
      expect(a).toBeGreaterThan(0);
      expect(a).toBeLessThanOrEqual(1);
    }
    expect(j.epoch_swap_acceptance as number[][]).toHaveLength(2);
    expect(rbmFromSafetensors(new Uint8Array(await readFile(model))).metadata).toMatchObject({ pt: 'true', replicas: '4' });

    const s = await runCli(['sample', model, '--pt', '--replicas', '3', '--beta-min', '0.9', '--chains', '4', '--steps', '20', '--out', join(dir, 'pt.png'), '--json']);
    expect(s.code, s.stderr).toBe(0);
    const sj = lastJson(s);
    expect(sj.pt).toBe(true);
    expect(sj.swap_acceptance as number[]).toHaveLength(2);
    for (const a of sj.swap_acceptance as number[]) expect(a).toBeGreaterThanOrEqual(0);
  });
});

describe('flag combinations that make no sense (exit 2)', () => {
  it.each([
    [['train', '--pt', '--pcd', '--out', 'x.safetensors'], /--pt and --pcd/],
    [['train', '--pt', '--k', '5', '--out', 'x.safetensors'], /drop --k/],
    [['train', '--replicas', '4', '--out', 'x.safetensors'], /--replicas only applies to --pt/],
    [['train', '--pt', '--visible', 'gaussian', '--out', 'x.safetensors'], /--pt supports binary/],
    [['train', '--visible', 'gaussian', '--binarize', 'threshold', '--out', 'x.safetensors'], /never binarizes/],
    [['train', '--visible', 'poisson', '--out', 'x.safetensors'], /--visible must be one of bernoulli, gaussian/],
    [['train', '--ais-betas', '100', '--out', 'x.safetensors'], /--ais-betas only applies to --eval-every/],
    [['train', '--eval-every', '0', '--out', 'x.safetensors'], /--eval-every must be a positive integer/],
    [['train', '--eval-method', 'trajectory', '--out', 'x.safetensors'], /--eval-method only applies to --eval-every/],
    [['train', '--eval-every', '1', '--eval-method', 'magic', '--out', 'x.safetensors'], /--eval-method must be one of auto, exact, ais, trajectory/],
    [['eval', 'm.safetensors', '--exact', '--ais'], /--exact or --ais, not both/],
    [['eval', 'm.safetensors', '--betas', '100'], /--betas only applies to --ais/],
    [['eval', 'm.safetensors', '--ais', '--runs', '0'], /--runs must be/],
    [['eval', 'm.safetensors', '--ais-tolerance', '0.1'], /--ais-tolerance only applies to --ais/],
    [['eval', 'm.safetensors', '--ais', '--ais-tolerance', '0'], /--ais-tolerance must be a number > 0/],
    [['eval', 'm.safetensors', '--ais', '--betas', '100', '--max-betas', '1000'], /--max-betas limits the refinement.*--betas fixes them/],
    [['eval', 'm.safetensors', '--ais', '--betas', '100', '--max-runs', '400'], /--max-runs limits the refinement.*--betas fixes them/],
    [['eval', 'm.safetensors', '--max-runs', '400'], /--max-runs only applies to --ais/],
    [['eval', 'm.safetensors', '--ais', '--reverse', '--max-runs', '400'], /--max-runs applies to the two-sided estimate/],
    [['eval', 'm.safetensors', '--ais', '--runs', '200', '--max-runs', '100'], /--max-runs \(100\) must be at least --runs \(200\)/],
    [['eval', 'm.safetensors', '--ais', '--reverse', '--ais-budget', '60'], /--ais-budget applies to the two-sided estimate/],
    [['eval', 'm.safetensors', '--ais', '--reverse-start', 'noise'], /--reverse-start must be one of auto, exact, tempering, data/],
    [['eval', 'm.safetensors', '--pll-all'], /--pll-all only applies to --pll/],
    [['sample', 'm.safetensors', '--beta-min', '0.5', '--out', 'x.png'], /--beta-min only applies to --pt/],
  ])('%j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(2);
    const m = cliMessages(r);
    expect(m).toHaveLength(1);
    expect(m[0]).toMatch(message);
  });
});
