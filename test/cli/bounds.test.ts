// Bad input never takes unbounded memory or time before its error: devices,
// pipes and directories as input files, files over the caps, headers that
// declare more than the file holds, sizes over the device's or the host's
// limits (named by flag), unbounded integer flags, and model files whose
// metadata contradicts itself.
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rbmToSafetensors } from '../../src/rbm/model-file';
import { buildCli, cliMessages, runCli, writeIdxImages } from './helpers';
import { rawSafetensors } from '../data/helpers';
import type { CliRun } from './helpers';

let dir: string;
/** A 784-4 Bernoulli model in this project's format. */
let mnistModel: string;

function modelBytes(V: number, H: number, metadata: Record<string, string> = {}): Uint8Array {
  const W = Float32Array.from({ length: V * H }, (_, i) => ((i % 7) - 3) * 0.01);
  return rbmToSafetensors({ visible: V, hidden: H, W, b: new Float32Array(V), c: new Float32Array(H), metadata });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-bounds-'));
  mnistModel = join(dir, 'mnist.safetensors');
  await writeFile(mnistModel, modelBytes(784, 4, { format: 'webgpu-rbm', visible: 'bernoulli', width: '28', height: '28' }));
  await buildCli();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Non-zero exit, exactly one webgpu-rbm line matching every pattern, no stack trace. */
function expectOneLine(run: CliRun, code: number, ...mentions: RegExp[]): void {
  expect(run.code, run.stderr).toBe(code);
  const messages = cliMessages(run);
  expect(messages, run.stderr).toHaveLength(1);
  for (const m of mentions) expect(messages[0]).toMatch(m);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr).not.toMatch(/Invalid typed array length|Array buffer allocation failed|internal error/);
}

describe('input files that are not regular files', () => {
  it('a character device as the model (/dev/zero) fails on its first block', async () => {
    expectOneLine(await runCli(['eval', '/dev/zero']), 1, /model \/dev\/zero: header length 0 is too short/);
    expectOneLine(await runCli(['sample', '/dev/zero', '--out', join(dir, 'z.png')]), 1, /model \/dev\/zero/);
  });

  it('a character device as the data fails on its header', async () => {
    expectOneLine(await runCli(['eval', mnistModel, '--data', '/dev/zero']), 1, /--data \/dev\/zero: unknown IDX element type 0x00/);
    expectOneLine(await runCli(['eval', mnistModel, '--data', '/dev/urandom']), 1, /--data \/dev\/urandom: /);
  });

  it('directories are named as such', async () => {
    expectOneLine(await runCli(['eval', dir]), 1, /cannot read it \(it is a directory\)/);
    expectOneLine(await runCli(['eval', mnistModel, '--data', dir]), 1, /--data .*it is a directory/);
  });

  it('a model arriving through a FIFO loads; one with more bytes than its header declares is refused', async () => {
    const data = join(dir, 'five.idx');
    await writeIdxImages(data, 5, 28, 28);
    const fifo = join(dir, 'model.fifo');
    execFileSync('mkfifo', [fifo]);
    const good = modelBytes(784, 4, { visible: 'bernoulli' });
    const [ok] = await Promise.all([runCli(['eval', fifo, '--data', data, '--json']), writeFile(fifo, good)]);
    expect(ok.code, ok.stderr).toBe(0);
    const trailing = new Uint8Array(good.length + 10);
    trailing.set(good);
    const [bad] = await Promise.all([
      runCli(['eval', fifo, '--data', data]),
      writeFile(fifo, trailing).catch(() => undefined), // the reader may close early (EPIPE)
    ]);
    expectOneLine(bad, 1, new RegExp(`a pipe \\(FIFO\\) gave more than the ${good.length} bytes its header declares`));
  });
});

describe('regular files over the caps or shorter than their headers', () => {
  it('a sparse 5 GB model file and a 3 GB data file are refused on their size', async () => {
    const big = join(dir, 'big.safetensors');
    const h = await open(big, 'w');
    await h.truncate(5 * 2 ** 30);
    await h.close();
    expectOneLine(await runCli(['eval', big]), 1, /model .*big\.safetensors: the file is 5\.37 GB, more than the 4\.\d+ GB a model file can be/);
    const bigData = join(dir, 'big-idx3-ubyte');
    const d = await open(bigData, 'w');
    await d.truncate(3 * 2 ** 30);
    await d.close();
    expectOneLine(await runCli(['eval', mnistModel, '--data', bigData]), 1, /--data .*: the file is 3\.22 GB, more than the 2\.15 GB an IDX file can be/);
  });

  it('a gzip bomb behind a small IDX header stops at what the header declares', async () => {
    const raw = new Uint8Array(16 + 64 * 2 ** 20);
    const view = new DataView(raw.buffer);
    view.setUint32(0, 0x803);
    [1, 28, 28].forEach((n, i) => view.setUint32(4 + 4 * i, n));
    const path = join(dir, 'bomb-idx3-ubyte.gz');
    await writeFile(path, gzipSync(raw));
    expectOneLine(await runCli(['eval', mnistModel, '--data', path]), 1, /--data .*bomb.*: gzipped data inflates past 800 bytes, more than its IDX header declares/);
  });

  it('an IDX header declaring more pixels than memory allows (or than the file holds)', async () => {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 0x803);
    [2_700_000, 28, 28].forEach((n, i) => view.setUint32(4 + 4 * i, n));
    const path = join(dir, 'huge-idx3-ubyte');
    await writeFile(path, bytes);
    expectOneLine(await runCli(['eval', mnistModel, '--data', path]), 1, /exceed the \d+ byte limit|the file is truncated/);
  });

  it('an IDX header declaring 60000×28×28 in a 100-byte file', async () => {
    const bytes = new Uint8Array(100);
    new DataView(bytes.buffer).setUint32(0, 0x803);
    [60000, 28, 28].forEach((n, i) => new DataView(bytes.buffer).setUint32(4 + 4 * i, n));
    const path = join(dir, 'short-idx3-ubyte');
    await writeFile(path, bytes);
    expectOneLine(await runCli(['eval', mnistModel, '--data', path]), 1, /need 47040000 bytes but 84 follow the header; the file is truncated/);
  });
});

describe('derived sizes are checked before anything is allocated, naming the flags', () => {
  it('sample --pt: --chains × --replicas × V over the device limit', async () => {
    const r = await runCli(['sample', mnistModel, '--pt', '--replicas', '1000', '--chains', '20000', '--out', join(dir, 'pt.png')]);
    expectOneLine(
      r, 1,
      /^webgpu-rbm: --chains 20000 × --replicas 1000 × 784 visible units needs 62\.7 GB of GPU storage .* but this device allows .* per buffer; lower --chains or --replicas$/,
    );
  });

  it('sample: the kept samples of a wide model over the device limit', async () => {
    const wide = join(dir, 'wide.safetensors');
    await writeFile(wide, modelBytes(1_000_000, 1, { visible: 'bernoulli' }));
    const r = await runCli(['sample', wide, '--chains', '20000', '--steps', '2', '--out', join(dir, 'wide.png')]);
    expectOneLine(r, 1, /--chains 20000 × 1000000 visible units needs 80 GB of GPU storage \(kept samples\).*lower --chains/);
  });

  it('eval --ais: --runs × V over the device limit', async () => {
    const V = 400 * 400;
    const model = join(dir, 'big-images.safetensors');
    await writeFile(model, modelBytes(V, 2, { visible: 'bernoulli' }));
    const data = join(dir, 'one-idx3-ubyte');
    await writeIdxImages(data, 1, 400, 400);
    const r = await runCli(['eval', model, '--data', data, '--ais', '--runs', '100000', '--betas', '10']);
    expectOneLine(r, 1, /--runs 100000 × 160000 visible units needs 64 GB of GPU storage \(AIS visible states\).*lower --runs/);
  });

  it('unbounded integer flags have bounds', async () => {
    const out = join(dir, 's.png');
    expectOneLine(await runCli(['sample', mnistModel, '--steps', '100000000', '--out', out]), 2, /--steps must be an integer in 1\.\.10000000/);
    expectOneLine(await runCli(['sample', mnistModel, '--chains', '30000', '--out', out]), 2, /--chains must be an integer in 1\.\.20000/);
    expectOneLine(await runCli(['eval', mnistModel, '--ais', '--betas', '99999999']), 2, /--betas must be an integer in 1\.\.10000000/);
    expectOneLine(await runCli(['eval', mnistModel, '--ais', '--runs', '1000000']), 2, /--runs must be an integer in 1\.\.100000/);
  });
});

describe('model files whose metadata contradicts itself', () => {
  it('a standardisation without "visible" is an error, not a Bernoulli model', async () => {
    const path = join(dir, 'no-visible.safetensors');
    const std = JSON.stringify(Array.from({ length: 784 }, () => 1));
    await writeFile(path, modelBytes(784, 4, { format: 'webgpu-rbm', standardize_mean: std, standardize_std: std }));
    expectOneLine(await runCli(['eval', path]), 1, /model .*no-visible\.safetensors: metadata has "standardize_mean" .* but no "visible" key/);
  });

  it.each(['ising', 'Gaussian'])('an unknown unit type (visible = %j) is an error', async (visible) => {
    const path = join(dir, `${visible}.safetensors`);
    // rbmToSafetensors refuses to write such a file: build it by hand.
    const V = 784;
    const H = 4;
    const header = {
      __metadata__: { format: 'webgpu-rbm', visible },
      W: { dtype: 'F32', shape: [V, H], data_offsets: [0, 4 * V * H] },
      b: { dtype: 'F32', shape: [V], data_offsets: [4 * V * H, 4 * V * (H + 1)] },
      c: { dtype: 'F32', shape: [H], data_offsets: [4 * V * (H + 1), 4 * (V * (H + 1) + H)] },
    };
    await writeFile(path, rawSafetensors(header, new Uint8Array(4 * (V * (H + 1) + H))));
    expectOneLine(await runCli(['eval', path]), 1, new RegExp(`metadata "visible" is "${visible}"; expected "bernoulli", "gaussian" or "potts"`));
  });
});
