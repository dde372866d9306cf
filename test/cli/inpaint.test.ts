// `inpaint` end to end on the built CLI: a small model trained on 2,000
// bundled digits fills in halves and a mask PNG of held-out digits. The PNG is
// read back tile by tile: the original, the masked input, then completions
// whose known pixels are the binarized digit exactly and whose hole differs
// from chain to chain (the same with the same seed); the completed bottom half
// is closer to the digit's own than completions of other digits are, and than
// noise; a Gaussian model clamps the pixels unbinarized; --image
// reads gray, RGB(A) and palette PNGs; the input errors are one line each.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundledMnistNode } from '../../src/data/assets-node';
import { splitDataset } from '../../src/data/split';
import { buildCli, cliMessages, lastJson, runCli } from './helpers';
import type { CliRun } from './helpers';

const W = 28;
const H = 28;
const V = W * H;
/** Not the default seed: the held-out split must follow the model's seed. */
const SEED = 3;

let dir: string;
let model: string;
/** The held-out digits of the model's split, as pixels in [0, 1]. */
let test: Float32Array[];
/** The mean image of the model's training split. */
let trainMean: Float32Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-inpaint-'));
  model = join(dir, 'digits.safetensors');
  await buildCli();
  const r = await runCli(['train', '--limit', '2000', '--hidden', '64', '--epochs', '5', '--seed', String(SEED), '--out', model, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const { images } = await loadBundledMnistNode();
  const split = splitDataset(images.count, 2000, SEED);
  test = Array.from(split.test, (i) => images.pixels.slice(i * V, (i + 1) * V));
  trainMean = new Float32Array(V);
  for (const i of split.train) for (let p = 0; p < V; p++) trainMean[p] += images.pixels[i * V + p] / split.train.length;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectCleanFailure(run: CliRun, code: number, ...mentions: RegExp[]): void {
  expect(run.code, run.stderr).toBe(code);
  const messages = cliMessages(run);
  expect(messages).toHaveLength(1);
  for (const m of mentions) expect(messages[0]).toMatch(m);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

/** The PNG's tiles (1-pixel lines around each), row by row: [images][original, input, ...completions] as bytes. */
async function readTiles(path: string, images: number, chains: number): Promise<Uint8Array[][]> {
  const png = decode(await readFile(path));
  const cols = chains + 2;
  expect(png.channels).toBe(1);
  expect([png.width, png.height]).toEqual([cols * (W + 1) + 1, images * (H + 1) + 1]);
  const rows: Uint8Array[][] = [];
  for (let r = 0; r < images; r++) {
    const row: Uint8Array[] = [];
    for (let c = 0; c < cols; c++) {
      const tile = new Uint8Array(V);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) tile[y * W + x] = png.data[(1 + r * (H + 1) + y) * png.width + 1 + c * (W + 1) + x];
      }
      row.push(tile);
    }
    rows.push(row);
  }
  return rows;
}

/** 1 where `half` is hidden. */
function halfHole(half: string): Uint8Array {
  return Uint8Array.from({ length: V }, (_, p) => {
    const x = p % W;
    const y = Math.floor(p / W);
    return (half === 'top' ? y < H / 2 : half === 'bottom' ? y >= H / 2 : half === 'left' ? x < W / 2 : x >= W / 2) ? 1 : 0;
  });
}

const binarized = (x: number): number => (x > 0.5 ? 255 : 0);

/**
 * The checks every run's PNG passes: the original is the digit; the input shows
 * the binarized digit where known and grey in the hole; every completion keeps
 * the known pixels exactly (binarized), and the chains differ in the hole.
 */
function checkRows(rows: Uint8Array[][], digits: Float32Array[], hole: Uint8Array): void {
  rows.forEach((row, img) => {
    const digit = digits[img];
    const [original, input, ...completions] = row;
    expect(Array.from(original)).toEqual(Array.from(digit, (x) => Math.round(x * 255)));
    for (let p = 0; p < V; p++) {
      if (hole[p]) expect(input[p] > 0 && input[p] < 255, `input pixel ${p} in the hole`).toBe(true);
      else expect(input[p]).toBe(binarized(digit[p]));
    }
    for (const [c, tile] of completions.entries()) {
      const wrong = Array.from(tile).findIndex((b, p) => !hole[p] && b !== binarized(digit[p]));
      expect(wrong, `image ${img} completion ${c}: first known pixel that is not the binarized digit`).toBe(-1);
    }
    const differ = completions.slice(1).some((t) => t.some((b, p) => hole[p] && b !== completions[0][p]));
    expect(differ, `image ${img}: the chains' completions of the hole all equal`).toBe(true);
  });
}

/** Mean squared error inside the hole of `guess` (bytes or [0, 1]) against the digit. */
function holeMse(guess: ArrayLike<number>, digit: Float32Array, hole: Uint8Array, scale: number): number {
  let se = 0;
  let n = 0;
  for (let p = 0; p < V; p++) {
    if (!hole[p]) continue;
    se += (guess[p] / scale - digit[p]) ** 2;
    n++;
  }
  return se / n;
}

describe('inpaint', () => {
  it('completes the bottom half of held-out digits: known pixels exact, chains differ, closer to the digit than fills from other digits and noise', async () => {
    const out = join(dir, 'bottom.png');
    const N = 12;
    const chains = 6;
    const r = await runCli(['inpaint', model, '--index', `0-${N - 1}`, '--mask', 'bottom', '--chains', String(chains), '--seed', '5', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = lastJson(r);
    expect(json).toMatchObject({
      command: 'inpaint', visible: V, hidden: 64, visible_type: 'bernoulli', width: W, height: H, source: 'mnist', images: N,
      mask: 'bottom', hidden_pixels: V / 2, filled_fraction: 0.5, chains, steps: 200, seed: 5, out,
    });
    expect(Number.isFinite(json.mean_free_energy)).toBe(true);
    const hole = halfHole('bottom');
    const digits = test.slice(0, N);
    const rows = await readTiles(out, N, chains);
    checkRows(rows, digits, hole);

    // Quality: the completions' mean (the model's guess at the hidden half) must be closer to the digit's
    // own bottom half than the guesses made from other digits' top halves are (the known pixels inform the
    // fill), and than noise. The training set's mean image is printed for comparison: a briefly trained
    // small model is about as close as it in squared error (which rewards blur), not reliably closer.
    const guesses = rows.map((row) => {
      const completions = row.slice(2);
      return Float64Array.from({ length: V }, (_, p) => completions.reduce((a, t) => a + t[p], 0) / chains);
    });
    let matched = 0;
    let mismatched = 0;
    let single = 0;
    let mean = 0;
    let noise = 0;
    let s = 12345;
    for (const [img, row] of rows.entries()) {
      matched += holeMse(guesses[img], digits[img], hole, 255) / N;
      for (const [other, guess] of guesses.entries()) if (other !== img) mismatched += holeMse(guess, digits[img], hole, 255) / N / (N - 1);
      single += row.slice(2).reduce((a, t) => a + holeMse(t, digits[img], hole, 255), 0) / chains / N;
      mean += holeMse(trainMean, digits[img], hole, 1) / N;
      const rand = Float64Array.from({ length: V }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
      noise += holeMse(rand, digits[img], hole, 1) / N;
    }
    // The CLI's own measure agrees with the PNG's (8-bit rounding apart).
    expect(json.hole_mse as number).toBeCloseTo(single, 2);
    console.log(
      `bottom half, squared error per pixel: mean of the completions ${matched.toFixed(4)}, from other digits ${mismatched.toFixed(4)}, ` +
        `single completion ${single.toFixed(4)}, training mean image ${mean.toFixed(4)}, uniform noise ${noise.toFixed(4)}`,
    );
    expect(matched).toBeLessThan(0.85 * mismatched);
    expect(single).toBeLessThan(0.5 * noise);
  });

  it('is reproducible with the same seed and differs with another', async () => {
    const args = (seed: string, out: string): string[] => ['inpaint', model, '--index', '3', '--mask', 'top', '--chains', '3', '--steps', '20', '--seed', seed, '--out', out];
    const [a, b, c] = [join(dir, 'a.png'), join(dir, 'b.png'), join(dir, 'c.png')];
    for (const [seed, out] of [['7', a], ['7', b], ['8', c]]) {
      const r = await runCli(args(seed, out));
      expect(r.code, r.stderr).toBe(0);
    }
    const [pa, pb, pc] = await Promise.all([a, b, c].map((p) => readFile(p)));
    expect(pa.equals(pb)).toBe(true);
    expect(pa.equals(pc)).toBe(false);
    checkRows(await readTiles(c, 1, 3), [test[3]], halfHole('top'));
  });

  it('fills the left and right halves and the white part of a mask PNG', async () => {
    for (const half of ['left', 'right']) {
      const out = join(dir, `${half}.png`);
      const r = await runCli(['inpaint', model, '--index', '1,4', '--mask', half, '--chains', '3', '--steps', '30', '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(lastJson(r)).toMatchObject({ mask: half, hidden_pixels: V / 2, images: 2 });
      checkRows(await readTiles(out, 2, 3), [test[1], test[4]], halfHole(half));
    }
    // A square in the middle, as an RGBA PNG with gray levels on both sides of 0.5.
    const hole = Uint8Array.from({ length: V }, (_, p) => (p % W >= 8 && p % W < 20 && Math.floor(p / W) >= 6 && Math.floor(p / W) < 22 ? 1 : 0));
    const rgba = new Uint8Array(V * 4);
    hole.forEach((h, p) => rgba.set(h ? [200, 220, 255, 255] : [60, 40, 20, 255], p * 4));
    const maskPath = join(dir, 'hole.png');
    await writeFile(maskPath, encode({ width: W, height: H, data: rgba, channels: 4, depth: 8 }));
    const out = join(dir, 'square.png');
    const r = await runCli(['inpaint', model, '--index', '2', '--mask', maskPath, '--chains', '3', '--steps', '30', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ mask: maskPath, hidden_pixels: 12 * 16, filled_fraction: (12 * 16) / V });
    checkRows(await readTiles(out, 1, 3), [test[2]], hole);
  });

  it('clamps a Gaussian model to the standardised pixels and shows them unbinarized', async () => {
    const gaussian = join(dir, 'gaussian.safetensors');
    const t = await runCli(['train', '--visible', 'gaussian', '--limit', '500', '--hidden', '16', '--epochs', '1', '--seed', String(SEED), '--out', gaussian]);
    expect(t.code, t.stderr).toBe(0);
    const out = join(dir, 'gaussian.png');
    const r = await runCli(['inpaint', gaussian, '--index', '0,1', '--mask', 'right', '--chains', '3', '--steps', '20', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ visible_type: 'gaussian', images: 2, hidden_pixels: V / 2 });
    const hole = halfHole('right');
    const rows = await readTiles(out, 2, 3);
    rows.forEach((row, img) => {
      const digit = Array.from(test[img], (x) => Math.round(x * 255));
      for (const tile of row) for (let p = 0; p < V; p++) if (!hole[p]) expect(tile[p]).toBe(digit[p]);
      const [, , first, ...rest] = row;
      expect(rest.some((tile) => tile.some((b, p) => hole[p] && b !== first[p]))).toBe(true);
    });
  });

  it('reads --image as gray (8 and 16 bit), RGB, palette, and dark-on-light with --invert', async () => {
    const digit = test[0];
    const bytes = Uint8Array.from(digit, (x) => Math.round(x * 255));
    const images: Array<[string, Uint8Array, string[]]> = [
      ['gray8.png', encode({ width: W, height: H, data: bytes, channels: 1, depth: 8 }), []],
      ['gray16.png', encode({ width: W, height: H, data: Uint16Array.from(bytes, (b) => b * 257), channels: 1, depth: 16 }), []],
      ['rgb.png', encode({ width: W, height: H, data: Uint8Array.from({ length: V * 3 }, (_, e) => bytes[Math.floor(e / 3)]), channels: 3, depth: 8 }), []],
      ['inverted.png', encode({ width: W, height: H, data: bytes.map((b) => 255 - b), channels: 1, depth: 8 }), ['--invert']],
    ];
    // A palette image: two colours, index 1 = white ink.
    const indexed = Uint8Array.from(digit, (x) => (x > 0.5 ? 1 : 0));
    images.push(['palette.png', encode({ width: W, height: H, data: indexed, channels: 1, depth: 8, palette: [[0, 0, 0], [255, 255, 255]] }), []]);
    for (const [name, png, extra] of images) {
      const path = join(dir, name);
      await writeFile(path, png);
      const out = join(dir, `from-${name}`);
      const r = await runCli(['inpaint', model, '--image', path, ...extra, '--chains', '2', '--steps', '10', '--out', out, '--json']);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(lastJson(r)).toMatchObject({ source: path, images: 1 });
      const [[original, input]] = await readTiles(out, 1, 2);
      const expected = name === 'palette.png' ? Float32Array.from(indexed) : digit;
      // The original as read (a palette image is already binary), and the input binarized from it.
      expect(Array.from(original), name).toEqual(Array.from(expected, (x) => Math.round(x * 255)));
      const hole = halfHole('bottom');
      for (let p = 0; p < V; p++) if (!hole[p]) expect(input[p], `${name} pixel ${p}`).toBe(binarized(expected[p]));
    }
  });

  it('refuses bad input with one line naming the fix, before any GPU work', async () => {
    const out = join(dir, 'never.png');
    const write = async (name: string, width: number, height: number, fill: number): Promise<string> => {
      const path = join(dir, name);
      await writeFile(path, encode({ width, height, data: new Uint8Array(width * height).fill(fill), channels: 1, depth: 8 }));
      return path;
    };
    const small = await write('small.png', 20, 20, 0);
    const empty = await write('empty-mask.png', W, H, 0);
    const full = await write('full-mask.png', W, H, 255);
    const text = join(dir, 'text.png');
    await writeFile(text, 'not a png\n');
    const cases: Array<[string[], number, RegExp[]]> = [
      [[join(dir, 'missing.safetensors'), '--index', '0'], 1, [/missing\.safetensors/, /no such file/, /webgpu-rbm train/]],
      [[model, '--image', small], 1, [/20×20/, /28×28/, /resize/]],
      [[model, '--image', text], 1, [/not a PNG/, /28×28/]],
      [[model, '--image', join(dir, 'nope.png')], 1, [/no such file/]],
      [[model, '--index', '0', '--mask', empty], 2, [/hides no pixel/, /nothing to fill/]],
      [[model, '--index', '0', '--mask', full], 2, [/hides every pixel/, /webgpu-rbm sample/]],
      [[model, '--index', '0', '--mask', 'middle'], 2, [/--mask must be top, bottom, left, right or a PNG/]],
      [[model, '--index', '0', '--mask', text], 1, [/--mask/, /not a PNG/]],
      [[model, '--index', '2000'], 2, [/--index 2000 is past the end/, /0\.\.1999/]],
      [[model, '--index', '3-1'], 2, [/--index must be/]],
      [[model], 2, [/needs an image/, /--image/, /--index/]],
      [[model, '--image', small, '--index', '0'], 2, [/--image and --index/]],
      [[model, '--index', '0', '--invert'], 2, [/--invert applies to --image only/]],
      [[model, '--index', '0-99', '--chains', '1000'], 2, [/100 images × --chains 1000 × 784 pixels/, /lower --chains/]],
    ];
    for (const [args, code, mentions] of cases) {
      const r = await runCli(['inpaint', ...args, '--out', out]);
      expectCleanFailure(r, code, ...mentions);
      expect(r.stdout, args.join(' ')).not.toMatch(/inpainting/);
    }
  });

  it('lists the command and its options', async () => {
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/^\s+inpaint\s+fill in/m);
    const r = await runCli(['inpaint', '--help']);
    expect(r.code).toBe(0);
    for (const f of ['--image', '--index', '--data', '--mask', '--chains', '--steps', '--seed', '--invert', '--out', '--json']) expect(r.stdout).toContain(f);
  });
});
