// `webgpu-rbm inpaint`: fill in the hidden part of an image by Gibbs sampling
// with the known pixels clamped (what the demo's inpainting panel does), and
// write one PNG row per image: the original, the masked input, the completions.
import { convertIndexedToRgb, decode, hasPngSignature } from 'fast-png';
import type { DecodedPng } from 'fast-png';
import {
  binarizeThreshold, meanFreeEnergy, rbmFromSafetensors, SafetensorsFormatError, sourceRows, splitDataset, tileGrid,
} from '../index';
import type { ModelStandardisation, RbmFile } from '../index';
import { loadBundledMnistNode } from '../node';
import { flag, intOption, parseCommand, positionals, requiredString, seedOption, stringOption, withFlagNames } from './args';
import type { OptionSpec } from './args';
import { MNIST_TEST_COUNT, readImagesFile } from './data-node';
import { CliError, messageOf, UsageError } from './errors';
import { readModelFile, refuseStack } from './files';
import { imageShape } from './images';
import type { ImageShape } from './images';
import { readStandardisation, standardiseWith } from './loglik';
import { withModelOnGpu } from './model-session';
import { fmt, Reporter } from './output';
import type { JsonObject } from './output';
import { checkOutputPaths } from './output-paths';
import { writePngGrid } from './png';
import { readInput } from './read-input';
import { toPixels } from './train';
import { splitSeed } from './transform';

/** The halves --mask names; the named half is hidden (filled in by the model). */
export const MASK_HALVES = ['top', 'bottom', 'left', 'right'] as const;
export type MaskHalf = (typeof MASK_HALVES)[number];

export const DEFAULT_CHAINS = 10;
export const DEFAULT_STEPS = 200;
/** Images one run inpaints (one PNG row each). */
const MAX_IMAGES = 100;
/** Completions per image (PNG columns). */
const MAX_CHAINS = 1000;
const MAX_STEPS = 10_000_000;
/** Chains × V values in each of the clamp's mask and values arrays (256 MiB of float32 each). */
const MAX_CLAMP_VALUES = 2 ** 26;
/** A PNG larger than this is not an image of a model's visible layer. */
const MAX_PNG_BYTES = 64 * 2 ** 20;
/** Gray level of the lines between tiles. */
const SEPARATOR = 128;
const INPAINT_FLAGS = { chains: '--chains (× images)', steps: '--steps' } as const;

export const INPAINT_HELP = `Usage: webgpu-rbm inpaint MODEL.safetensors (--image IMG.png | --index LIST [--data mnist|FILE])
                         [--mask top|bottom|left|right|MASK.png] [options] --out completions.png

Fills in the hidden part of an image: Gibbs sweeps (v → h → v) with the known
pixels clamped, so the hidden ones are drawn from p(v_hidden | v_known). A
binary model sees the known pixels binarized (> 0.5); a Gaussian model sees
them standardised with the mean and std stored in the model file. Writes one
PNG row per image: the original, the input (hidden part hatched grey), then
the completions (the visible probabilities of the last sweep; known pixels as
the model saw them).

  --image FILE             a PNG (grayscale, RGB or palette; alpha over black)
                           of the model's image size (its metadata's width ×
                           height), light ink on a dark background like MNIST
  --invert                 the --image is dark ink on a light background
  --index LIST             images of --data instead: e.g. 3, 0-7 or 1,5,9
                           (at most ${MAX_IMAGES}); for mnist, of the bundled digits'
                           held-out split (2,000, split by the model's seed)
  --data mnist|FILE        where --index reads: the bundled digits, an IDX
                           images file or a 2-D .npy array            [mnist]
  --mask top|bottom|left|right|FILE
                           the part to fill in: a half of the image, or a PNG
                           of the image's size, white where the model fills
                           in, black where the pixel is known         [bottom]
  --chains N               completions per image                          [${DEFAULT_CHAINS}]
  --steps S                Gibbs sweeps                                  [${DEFAULT_STEPS}]
  --seed S                 sampling seed (default: derived from the model's seed)
  --out FILE               the PNG to write
  --json                   print one JSON object on the last line of stdout:
                           the settings, the fraction of pixels filled, the
                           mean free energy of the completions and their
                           squared error against the original in the hole
  -h, --help               show this help

Examples
  webgpu-rbm inpaint out/mnist.safetensors --index 0-7 --mask bottom --out out/inpaint.png
  webgpu-rbm inpaint out/mnist.safetensors --image digit.png --mask hole.png --chains 20 --out out/digit.png
`;

const OPTIONS = {
  image: { type: 'string' },
  invert: { type: 'boolean' },
  index: { type: 'string' },
  data: { type: 'string' },
  mask: { type: 'string' },
  chains: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
} as const satisfies OptionSpec;

/** "3", "0-7", "1,5,9" or a mix ("0-3,8"): distinct indices in the order given. */
export function parseIndexList(s: string): number[] {
  const out: number[] = [];
  const bad = (): never => {
    throw new UsageError(`--index must be an index, a range or a comma-separated list (e.g. 3, 0-7 or 1,5,9), got "${s}"`);
  };
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) bad();
    const a = Number(m![1]);
    const b = m![2] === undefined ? a : Number(m![2]);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a) bad();
    if (b - a + 1 + out.length > MAX_IMAGES) throw new UsageError(`--index "${s}" names more than ${MAX_IMAGES} images; inpaint fewer per run`);
    for (let i = a; i <= b; i++) if (!out.includes(i)) out.push(i);
  }
  return out;
}

/** Hidden (1) / known (0) per pixel for a named half; the middle row or column of an odd size is hidden. */
export function halfMask(half: MaskHalf, shape: ImageShape): Uint8Array {
  const { width: w, height: h } = shape;
  const hole = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const hidden =
        half === 'top' ? y < Math.ceil(h / 2) : half === 'bottom' ? y >= Math.floor(h / 2) : half === 'left' ? x < Math.ceil(w / 2) : x >= Math.floor(w / 2);
      hole[y * w + x] = hidden ? 1 : 0;
    }
  }
  return hole;
}

/** Width and height from a PNG's IHDR (bytes 16..24), read before decoding so a huge image is refused without allocating it. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: dv.getUint32(16, false), height: dv.getUint32(20, false) };
}

/**
 * Intensities in [0, 1] of a decoded PNG, row-major: gray, or the luminance
 * (Rec. 601) of RGB; an alpha channel blends the pixel over `background`.
 */
export function pngIntensities(png: DecodedPng, background = 0): Float32Array {
  const { width, height } = png;
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  let max = png.depth === 16 ? 65535 : 255;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
    max = 255;
  } else if (png.depth < 8) {
    // Gray at 1, 2 or 4 bits: packed, each row starting on a byte.
    const depth = png.depth;
    const perLine = Math.ceil((width * depth * channels) / 8);
    const unpacked = new Uint8Array(width * height * channels);
    for (let y = 0; y < height; y++) {
      for (let k = 0; k < width * channels; k++) {
        const bit = k * depth;
        const byte = png.data[y * perLine + (bit >> 3)];
        unpacked[y * width * channels + k] = (byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
      }
    }
    data = unpacked;
    max = (1 << depth) - 1;
  }
  const out = new Float32Array(width * height);
  const color = channels >= 3;
  const alpha = channels === 2 || channels === 4;
  for (let p = 0; p < out.length; p++) {
    const o = p * channels;
    const lum = color ? (0.299 * data[o] + 0.587 * data[o + 1] + 0.114 * data[o + 2]) / max : data[o] / max;
    const a = alpha ? data[o + channels - 1] / max : 1;
    out[p] = Math.min(1, Math.max(0, a * lum + (1 - a) * background));
  }
  return out;
}

/** Reads a PNG of exactly `shape` as intensities; every failure is one line naming `flag` and the fix. */
async function readPng(path: string, flag: string, shape: ImageShape, what: string, background = 0): Promise<Float32Array> {
  const hint = `pass a PNG of ${shape.width}×${shape.height} pixels (${what})`;
  const bytes = await readInput(path, { label: `${flag} ${path}`, hint, maxBytes: MAX_PNG_BYTES, kind: 'a PNG image' });
  if (!hasPngSignature(bytes)) throw new CliError(`${flag} ${path}: not a PNG file (no PNG signature); ${hint}`);
  const size = pngSize(bytes);
  if (size && (size.width !== shape.width || size.height !== shape.height)) {
    throw new CliError(
      `${flag} ${path}: the image is ${size.width}×${size.height} but the model's images are ${shape.width}×${shape.height}; resize it to ${shape.width}×${shape.height}`,
    );
  }
  let png: DecodedPng;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new CliError(`${flag} ${path}: cannot decode the PNG (${messageOf(e).replace(/\.$/, '')}); ${hint}`);
  }
  if (png.width !== shape.width || png.height !== shape.height) {
    throw new CliError(`${flag} ${path}: the image is ${png.width}×${png.height} but the model's images are ${shape.width}×${shape.height}; resize it`);
  }
  return pngIntensities(png, background);
}

/** The host-side model file: shape, unit type, metadata; decoded before any GPU work so input errors come first. */
function readModelHeader(path: string, bytes: Uint8Array): RbmFile {
  refuseStack(path, bytes);
  try {
    return rbmFromSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsFormatError || e instanceof RangeError) throw new CliError(`model ${path}: ${messageOf(e).replace(/\.$/, '')}`);
    throw e;
  }
}

interface Inputs {
  /** [images, V] intensities in [0, 1]. */
  pixels: Float32Array;
  count: number;
  /** Each image's name in messages and the JSON: its index, or the PNG path. */
  labels: Array<number | string>;
  source: string;
}

async function readImages(v: Record<string, string | boolean | undefined>, file: RbmFile, shape: ImageShape): Promise<Inputs> {
  const imagePath = stringOption(v, 'image');
  const indexSpec = stringOption(v, 'index');
  const dataSpec = stringOption(v, 'data');
  const V = file.visible;
  if (imagePath !== undefined) {
    const background = flag(v, 'invert') ? 1 : 0;
    let pixels = await readPng(imagePath, '--image', shape, 'the image to complete', background);
    if (flag(v, 'invert')) pixels = pixels.map((x) => 1 - x);
    return { pixels, count: 1, labels: [imagePath], source: imagePath };
  }
  const indices = parseIndexList(indexSpec!);
  const data = dataSpec ?? 'mnist';
  let rows: Float32Array;
  if (data === 'mnist') {
    let bundled;
    try {
      bundled = await loadBundledMnistNode();
    } catch (e) {
      throw new CliError(messageOf(e));
    }
    const { width, height } = bundled.images;
    if (width * height !== V) {
      throw new CliError(`the model has ${V} visible units but the bundled digits are ${width}×${height}; pass --image or --data with images of the model's size`);
    }
    // The held-out digits of the model's own split (as transform and classify see them).
    const { test } = splitDataset(bundled.images.count, MNIST_TEST_COUNT, splitSeed(undefined, file.metadata));
    checkIndices(indices, test.length, 'the bundled digits\' held-out split');
    rows = sourceRows(bundled.images.pixels, V, indices.map((i) => test[i]));
  } else {
    const images = await readImagesFile(data, '--data');
    if (images.width * images.height !== V) {
      throw new CliError(
        `--data ${data}: its images are ${images.width}×${images.height} but the model's are ${shape.width}×${shape.height}; pass images of the size it was trained on`,
      );
    }
    checkIndices(indices, images.count, `--data ${data}`);
    rows = sourceRows(images.data, V, indices);
  }
  return { pixels: rows, count: indices.length, labels: indices, source: data };
}

function checkIndices(indices: number[], count: number, what: string): void {
  const bad = indices.find((i) => i >= count);
  if (bad !== undefined) throw new UsageError(`--index ${bad} is past the end of ${what} (${count} images: 0..${count - 1})`);
}

/** The hole (1 = filled in by the model): a named half or a mask PNG. */
async function readMask(spec: string, shape: ImageShape): Promise<Uint8Array> {
  if ((MASK_HALVES as readonly string[]).includes(spec)) return halfMask(spec as MaskHalf, shape);
  if (!/\.png$/i.test(spec)) {
    throw new UsageError(`--mask must be top, bottom, left, right or a PNG file (white where the model fills in), got "${spec}"`);
  }
  const m = await readPng(spec, '--mask', shape, 'white where the model fills in, black where the pixel is known');
  return Uint8Array.from(m, (x) => (x >= 0.5 ? 1 : 0));
}

/** What the model is clamped to: binarized pixels (binary model) or standardised ones (Gaussian). */
function modelValues(pixels: Float32Array, s: ModelStandardisation | undefined): Float32Array {
  return s ? standardiseWith(pixels, s) : binarizeThreshold(pixels);
}

/** A hatched grey where the image is hidden, the known pixels as the model sees them (on the pixel scale). */
function maskedInput(shown: Float32Array, hole: Uint8Array, shape: ImageShape): Float32Array {
  const w = shape.width;
  return shown.map((x, p) => (hole[p] ? (((p % w) + Math.floor(p / w)) % 4 < 2 ? 0.35 : 0.6) : x));
}

export async function runInpaint(args: string[]): Promise<number> {
  const parsed = parseCommand('inpaint', args, OPTIONS);
  const [modelPath] = positionals(parsed, 'inpaint', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const chains = intOption(v, 'chains', DEFAULT_CHAINS, 1, MAX_CHAINS);
  const steps = intOption(v, 'steps', DEFAULT_STEPS, 1, MAX_STEPS);
  const seed = v.seed === undefined ? undefined : seedOption(v, 0);
  const maskSpec = stringOption(v, 'mask') ?? 'bottom';
  if (maskSpec === '') throw new UsageError('--mask needs top, bottom, left, right or a PNG file');
  const outPath = requiredString(v, 'inpaint', 'out', 'FILE (the PNG to write, e.g. --out completions.png)');
  const fromPng = stringOption(v, 'image') !== undefined;
  if (!fromPng && stringOption(v, 'index') === undefined) {
    throw new UsageError('inpaint needs an image: --image FILE.png, or --index LIST for images of --data (the bundled digits by default)');
  }
  if (fromPng && (v.index !== undefined || v.data !== undefined)) {
    throw new UsageError('--image and --index/--data both name the images; pass --image FILE or --index LIST [--data mnist|FILE]');
  }
  if (!fromPng && flag(v, 'invert')) throw new UsageError('--invert applies to --image only; the --data images are used as they are');
  const imageCount = fromPng ? 1 : parseIndexList(stringOption(v, 'index')!).length;
  const out = new Reporter(flag(v, 'json'));
  const inputs = [{ flag: 'MODEL', path: modelPath }];
  for (const f of ['image', 'mask', 'data'] as const) {
    const p = stringOption(v, f);
    if (p !== undefined) inputs.push({ flag: `--${f}`, path: p });
  }
  await checkOutputPaths([{ flag: '--out', path: outPath, extension: '.png' }], inputs);

  // Everything about the inputs is checked on the host, before the device opens.
  const modelBytes = await readModelFile(modelPath);
  const file = readModelHeader(modelPath, modelBytes);
  const V = file.visible;
  const shape = imageShape(file.metadata, V);
  const unitKind: string = file.visibleType;
  if (unitKind !== 'bernoulli' && unitKind !== 'gaussian') {
    throw new CliError(`model ${modelPath}: inpaint supports binary (bernoulli) and gaussian visible units; this model's are ${unitKind}`);
  }
  const gaussian = unitKind === 'gaussian';
  const standardisation = gaussian ? (file.standardisation ?? readStandardisation(file.metadata, V, modelPath)) : undefined;
  if (imageCount * chains * V > MAX_CLAMP_VALUES) {
    throw new UsageError(
      `${imageCount} image${imageCount === 1 ? '' : 's'} × --chains ${chains} × ${V} pixels is more than ${MAX_CLAMP_VALUES} clamped values; ` +
        'lower --chains or inpaint fewer images per run',
    );
  }
  const images = await readImages(v, file, shape);
  const hole = await readMask(maskSpec, shape);
  const holeCount = hole.reduce((a, b) => a + b, 0);
  if (holeCount === 0) {
    throw new UsageError(`--mask ${maskSpec} hides no pixel, so there is nothing to fill in; paint the part to fill in white, or use --mask top|bottom|left|right`);
  }
  if (holeCount === V) {
    throw new UsageError(`--mask ${maskSpec} hides every pixel, so nothing is known to complete from; to draw unconditional samples use "webgpu-rbm sample"`);
  }
  const n = images.count;
  const total = n * chains;
  const known = modelValues(images.pixels, standardisation);
  // What the known pixels look like to the model, on the pixel scale (binarized for a binary model).
  const shown = standardisation ? images.pixels : known;
  const mask = new Float32Array(total * V);
  const values = new Float32Array(total * V);
  for (let c = 0; c < total; c++) {
    const img = Math.floor(c / chains);
    for (let i = 0; i < V; i++) {
      mask[c * V + i] = hole[i] ? 0 : 1;
      values[c * V + i] = hole[i] ? 0 : known[img * V + i];
    }
  }

  return withModelOnGpu(modelPath, modelBytes, out, async (gpu, { model }) => {
    out.line(
      `inpainting ${n} image${n === 1 ? '' : 's'} (${holeCount} of ${V} pixels hidden, --mask ${maskSpec}): ` +
        `${chains} chains × ${steps} sweeps each on a ${V}-${model.hidden} ${model.visibleType} RBM on ${gpu.adapterName}`,
    );
    const start = performance.now();
    const r = await withFlagNames(INPAINT_FLAGS, () => model.sample({ chains: total, steps, seed, clamp: { mask, values } }));
    const seconds = (performance.now() - start) / 1000;
    const completions = standardisation ? toPixels(r.probabilities, standardisation.mean, standardisation.std) : r.probabilities;
    // Known pixels exactly as clamped (a Gaussian model's round trip through standardisation is not exact).
    for (let c = 0; c < total; c++) {
      const img = Math.floor(c / chains);
      for (let i = 0; i < V; i++) if (!hole[i]) completions[c * V + i] = shown[img * V + i];
    }

    // One row per image: original, masked input, completions.
    const cols = chains + 2;
    const tiles = new Float32Array(n * cols * V);
    const perImage: JsonObject[] = [];
    let sumF = 0;
    for (let img = 0; img < n; img++) {
      const original = images.pixels.subarray(img * V, (img + 1) * V);
      const row = img * cols * V;
      tiles.set(original, row);
      tiles.set(maskedInput(shown.subarray(img * V, (img + 1) * V), hole, shape), row + V);
      const mine = completions.subarray(img * chains * V, (img + 1) * chains * V);
      tiles.set(mine, row + 2 * V);
      // Squared error against the original inside the hole: of each completion, and of their mean.
      let se = 0;
      let seMean = 0;
      for (let i = 0; i < V; i++) {
        if (!hole[i]) continue;
        let m = 0;
        for (let c = 0; c < chains; c++) {
          const x = mine[c * V + i];
          se += (x - original[i]) ** 2;
          m += x / chains;
        }
        seMean += (m - original[i]) ** 2;
      }
      const F = await meanFreeEnergy(model, r.samples.subarray(img * chains * V, (img + 1) * chains * V));
      sumF += F;
      perImage.push({
        image: images.labels[img],
        mean_free_energy: F,
        hole_mse: se / (holeCount * chains),
        mean_completion_hole_mse: seMean / holeCount,
      });
    }
    // Grey lines between the tiles, so black backgrounds stay apart.
    await writePngGrid(outPath, tileGrid(tiles, n * cols, shape.width, shape.height, { cols, normalize: 'none', background: SEPARATOR }));
    const meanF = sumF / n;
    const mse = perImage.reduce((a, p) => a + (p.hole_mse as number), 0) / n;
    out.line(
      `${total} completions in ${fmt(seconds, 3)} s; mean F ${fmt(meanF)}; squared error in the hole ${fmt(mse)} per pixel; ` +
        `wrote ${outPath} (${n} × ${cols} tiles: original, input, ${chains} completions)`,
    );
    const json: JsonObject = {
      command: 'inpaint',
      model: modelPath,
      visible: V,
      hidden: model.hidden,
      visible_type: model.visibleType,
      width: shape.width,
      height: shape.height,
      source: images.source,
      images: n,
      mask: maskSpec,
      hidden_pixels: holeCount,
      filled_fraction: holeCount / V,
      chains,
      steps,
      seed,
      seconds,
      mean_free_energy: meanF,
      hole_mse: mse,
      per_image: perImage,
      out: outPath,
      adapter: gpu.adapterName,
    };
    out.result(json);
    return 0;
  });
}
