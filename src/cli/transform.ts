// `webgpu-rbm transform`: an RBM's features P(h = 1 | v) of every input image,
// written as a float32 NumPy array [N, H] for other tools (scikit-learn,
// PyTorch, …). Also the pieces `classify` shares: the model's view of the
// pixels, features computed in row blocks, and labels (IDX files and the
// bundled digits' labels in the split order).
import {
  describeSizeLimit, DeviceLimitError, IdxFormatError, isStackSafetensors, npyBytes, RBMStack, readIdxStream, SafetensorsFormatError, sourceRows, splitDataset,
} from '../index';
import type { LoadedStack, ModelStandardisation, RBM, VisibleType } from '../index';
import { loadBundledMnistNode } from '../node';
import { choiceOption, flag, intOption, parseCommand, positionals, requiredString, seedOption, stringOption } from './args';
import type { OptionSpec } from './args';
import { writeFileAtomic } from './atomic-write';
import { firstRows, IDX_FILE_MAX_BYTES, loadData, MNIST_TEST_COUNT } from './data-node';
import type { Images } from './data-node';
import { CliError, messageOf, UsageError } from './errors';
import { readModelFile } from './files';
import { withModelOnGpu } from './model-session';
import { openDevice } from './gpu-node';
import type { CliDevice } from './gpu-node';
import { SignalGuard } from './signals';
import { readStandardisation, standardiseWith } from './loglik';
import { thresholded } from './metrics';
import { checkOutputPaths } from './output-paths';
import type { InputPath } from './output-paths';
import { fmt, formatCount, Reporter } from './output';
import type { JsonObject } from './output';
import { openInput } from './read-input';

/** Rows per GPU call: 8,192 rows of 784 pixels are 25 MB, far under every binding limit. */
export const FEATURE_CHUNK_ROWS = 8192;

/** How a model sees pixels in [0, 1]: thresholded at 0.5 (binary units) or standardised with its stored mean and std (Gaussian units). */
export function modelInput(
  model: RBM,
  metadata: Record<string, string>,
  stored: ModelStandardisation | undefined,
  path: string,
): (pixels: Float32Array) => Float32Array {
  if (model.visibleType !== 'gaussian') return thresholded;
  const std = stored ?? readStandardisation(metadata, model.visible, path);
  return (p) => standardiseWith(p, std);
}

/**
 * The model's features P(h = 1 | v) of every image, [count, H], computed in
 * blocks of FEATURE_CHUNK_ROWS rows (each converted from the compact form as
 * it is needed, so no float32 copy of the whole set is made).
 */
export async function modelFeatures(model: RBM, images: Images, prepare: (pixels: Float32Array) => Float32Array): Promise<Float32Array> {
  const V = model.visible;
  const H = model.hidden;
  const out = new Float32Array(images.count * H);
  for (let a = 0; a < images.count; a += FEATURE_CHUNK_ROWS) {
    const b = Math.min(images.count, a + FEATURE_CHUNK_ROWS);
    const rows = sourceRows(images.data, V, Array.from({ length: b - a }, (_, i) => a + i));
    out.set(await model.transform(prepare(rows)), a * H);
  }
  return out;
}

/**
 * What transform and classify need of a model file: a single RBM's features
 * P(h | v), or a stack's up-pass through its first `depth` layers (all by
 * default), each seeing the images as the bottom layer does.
 */
export interface FeatureModel {
  visible: number;
  /** Features per image. */
  hidden: number;
  visibleType: VisibleType;
  /** The unit counts of every layer in the file, bottom to top ([V, H] for a single RBM). */
  sizes: number[];
  /** Layers the features pass through (1 for a single RBM). */
  depth: number;
  /** Whether the file is a stack (tensors layer0.W, …). */
  stack: boolean;
  /** E.g. "784-256 RBM" or "784-256-256 stack". */
  label: string;
  metadata: Record<string, string>;
  features(images: Images): Promise<Float32Array>;
}

/** The --depth flag's help line, shared by transform and classify. */
export const DEPTH_HELP = `  --depth N                for a stack file (train --stack): features of the
                           first N layers' up-pass (default: all)`;

/** How a stack's bottom layer sees pixels in [0, 1]: thresholded at 0.5 (binary) or standardised (Gaussian). */
function stackInput(loaded: LoadedStack, path: string): (pixels: Float32Array) => Float32Array {
  if (loaded.stack.visibleType !== 'gaussian') return thresholded;
  const std = loaded.standardisation ?? readStandardisation(loaded.metadata, loaded.stack.visible, path);
  return (p) => standardiseWith(p, std);
}

/**
 * Opens the device, loads `bytes` (a single-RBM or a stack file, read from
 * `path` before any GPU work) and runs `body` with its features. `depth`
 * (--depth) picks how many layers of a stack are used; a single RBM has one.
 */
export async function withFeatureModel<T>(
  path: string,
  bytes: Uint8Array,
  out: Reporter,
  depth: number | undefined,
  body: (gpu: CliDevice, model: FeatureModel) => Promise<T>,
): Promise<T> {
  if (!isStackSafetensors(bytes)) {
    if (depth !== undefined && depth !== 1) {
      throw new UsageError(`--depth ${depth}: model ${path} is a single RBM (one layer); --depth applies to stack files written by "train --stack"`);
    }
    return withModelOnGpu(path, bytes, out, (gpu, { model, metadata, standardisation }) => {
      const prepare = modelInput(model, metadata, standardisation, path);
      return body(gpu, {
        visible: model.visible, hidden: model.hidden, visibleType: model.visibleType, sizes: [model.visible, model.hidden], depth: 1, stack: false,
        label: `${model.visible}-${model.hidden} RBM`, metadata, features: (images) => modelFeatures(model, images, prepare),
      });
    });
  }
  return withStackOnGpu(path, bytes, out, async (gpu, loaded) => {
    const { stack } = loaded;
    if (depth !== undefined && depth > stack.depth) {
      throw new UsageError(`--depth ${depth}: the stack ${path} has ${stack.depth} layer(s) (${stack.sizes.join('-')}); give at most --depth ${stack.depth}`);
    }
    const d = depth ?? stack.depth;
    const sizes = [...stack.sizes];
    const input = stackInput(loaded, path);
    return await body(gpu, {
      visible: stack.visible, hidden: sizes[d], visibleType: stack.visibleType, sizes, depth: d, stack: true,
      label: `${sizes.join('-')} stack${d < stack.depth ? ` (its first ${d} layer${d > 1 ? 's' : ''})` : ''}`, metadata: loaded.metadata,
      features: (images) => stack.features(images.data, d, input),
    });
  });
}

/**
 * The frame of a command that runs a stack file (train --stack) on the GPU:
 * device, signal guard (quit at once: nothing half-written), the stack loaded
 * from `bytes` (one-line errors for malformed files), and their release.
 */
export async function withStackOnGpu<T>(
  path: string,
  bytes: Uint8Array,
  out: Reporter,
  body: (gpu: CliDevice, loaded: LoadedStack) => Promise<T>,
): Promise<T> {
  const gpu = await openDevice();
  const guard = new SignalGuard('now', (line) => out.warn(line), () => gpu.close());
  try {
    let loaded: LoadedStack;
    try {
      loaded = RBMStack.fromSafetensors(gpu.device, bytes);
    } catch (e) {
      if (e instanceof DeviceLimitError) throw new CliError(`model ${path}: ${e.size ? describeSizeLimit(e.size) : messageOf(e)}`);
      if (e instanceof SafetensorsFormatError || e instanceof RangeError) throw new CliError(`model ${path}: ${messageOf(e).replace(/\.$/, '')}`);
      throw e;
    }
    try {
      return await body(gpu, loaded);
    } finally {
      loaded.stack.dispose();
    }
  } finally {
    guard.dispose();
    gpu.close();
  }
}

/** The model's visible units must match the images' pixels. */
export function checkImageSize(model: { visible: number }, images: Images, flag: string): void {
  const V = images.width * images.height;
  if (V !== model.visible) {
    throw new CliError(
      `the model has ${model.visible} visible units but the ${flag} images are ${images.width}×${images.height} = ${V} pixels; use data of the size it was trained on`,
    );
  }
}

const LABELS_HINT = 'pass an IDX labels file (*-labels-idx1-ubyte, optionally .gz) with one label per image';

/** An IDX labels file (u8, one dimension), plain or gzipped, with one-line errors naming `flag`. */
export async function readLabelsFile(path: string, flag: string): Promise<Uint8Array> {
  const input = await openInput(path, { label: `${flag} ${path}`, hint: LABELS_HINT, maxBytes: IDX_FILE_MAX_BYTES, kind: 'an IDX labels file' });
  try {
    const idx = await readIdxStream(input.chunks, { size: input.size });
    if (idx.type !== 'u8' || idx.dims.length !== 1) {
      throw new CliError(
        `${flag} ${path}: expected IDX labels (u8 with one dimension, *-labels-idx1-ubyte), got ${idx.type} [${idx.dims.join(', ')}]; ${LABELS_HINT}`,
      );
    }
    return idx.data as Uint8Array;
  } catch (e) {
    if (e instanceof IdxFormatError) throw new CliError(`${flag} ${path}: ${e.message.replace(/\.$/, '')}`);
    throw e;
  } finally {
    await input.chunks.return(undefined);
  }
}

/** The bundled digits' labels in the order loadData gives their training and test splits (same seed). */
export async function mnistSplitLabels(seed: number): Promise<{ train: Uint8Array; test: Uint8Array }> {
  let labels: Uint8Array;
  try {
    ({ labels } = await loadBundledMnistNode());
  } catch (e) {
    throw new CliError(messageOf(e));
  }
  const split = splitDataset(labels.length, MNIST_TEST_COUNT, seed);
  return { train: Uint8Array.from(split.train, (i) => labels[i]), test: Uint8Array.from(split.test, (i) => labels[i]) };
}

/** The seed of the bundled digits' split: --seed, else the model's own (so its held-out digits stay held out), else 1. */
export function splitSeed(seedFlag: number | undefined, metadata: Record<string, string>): number {
  const fileSeed = Number(metadata.seed);
  return seedFlag ?? (Number.isInteger(fileSeed) && fileSeed >= 0 && fileSeed <= 0xffffffff ? fileSeed : 1);
}

export const TRANSFORM_HELP = `Usage: webgpu-rbm transform MODEL.safetensors --data mnist|FILE --out FEATURES.npy [options]

Writes the model's features, the hidden-unit probabilities P(h = 1 | v) of
every image, as a float32 NumPy array of shape [N, hidden] (.npy version 1.0),
one row per image in the order read. For a stack (train --stack) the features
are the up-pass of probabilities through its layers: [N, top layer's units]. A binary model sees the images
thresholded at 0.5, a Gaussian model sees them standardised with the mean and
std stored in the model file (as in eval).

  --data mnist|FILE        images: the bundled digits (split by --seed as in
                           train; see --split), an IDX images file or a 2-D
                           .npy array                                  [mnist]
  --split train|test       for mnist: the 8,000 training digits or the
                           ${MNIST_TEST_COUNT} held-out ones                      [train]
  --limit N                only the first N images
  --seed S                 the mnist split's seed (default: the model's seed)
  --out FILE               the .npy file to write (float32 [N, hidden])
  --labels-out FILE        for mnist: also write the digits' labels in the same
                           order, as a uint8 .npy array [N] (a file's rows keep
                           their order, so its own labels file already matches)
${DEPTH_HELP}
  --json                   print one JSON object on the last line of stdout
  -h, --help               show this help

Examples
  webgpu-rbm transform out/mnist.safetensors --data mnist --out out/features.npy --labels-out out/labels.npy
  webgpu-rbm transform out/fashion.safetensors --data t10k-images-idx3-ubyte.gz --out out/test-features.npy

In Python: numpy.load("out/features.npy") is an array of shape (8000, hidden).
`;

const OPTIONS = {
  data: { type: 'string' },
  split: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  'labels-out': { type: 'string' },
  depth: { type: 'string' },
} as const satisfies OptionSpec;

export async function runTransform(args: string[]): Promise<number> {
  const parsed = parseCommand('transform', args, OPTIONS);
  const [modelPath] = positionals(parsed, 'transform', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const dataSpec = stringOption(v, 'data') ?? 'mnist';
  const mnist = dataSpec === 'mnist';
  const split = choiceOption(v, 'split', ['train', 'test'] as const, 'train');
  const limit = v.limit === undefined ? undefined : intOption(v, 'limit', 1);
  const seedFlag = v.seed === undefined ? undefined : seedOption(v, 0);
  const outPath = requiredString(v, 'transform', 'out', 'FILE (the .npy file to write, e.g. --out features.npy)');
  const labelsOut = stringOption(v, 'labels-out');
  const depth = v.depth === undefined ? undefined : intOption(v, 'depth', 1, 1, 64);
  if (!mnist) {
    const stray = ['split', 'seed', 'labels-out'].find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} applies to --data mnist only; a file's images are read in order (its labels file already matches)`);
  }
  const out = new Reporter(flag(v, 'json'));
  const inputs: InputPath[] = [{ flag: 'MODEL', path: modelPath }, ...(mnist ? [] : [{ flag: '--data', path: dataSpec }])];
  await checkOutputPaths(
    [{ flag: '--out', path: outPath, extension: '.npy' }, ...(labelsOut !== undefined ? [{ flag: '--labels-out', path: labelsOut, extension: '.npy' }] : [])],
    inputs,
  );

  const modelBytes = await readModelFile(modelPath);
  return withFeatureModel(modelPath, modelBytes, out, depth, async (gpu, model) => {
    const { metadata } = model;
    const seed = splitSeed(seedFlag, metadata);
    const data = await loadData({ data: dataSpec, seed });
    let images = split === 'test' ? data.test! : data.train;
    let labels: Uint8Array | undefined;
    if (labelsOut !== undefined) {
      const all = await mnistSplitLabels(seed);
      labels = split === 'test' ? all.test : all.train;
    }
    if (limit !== undefined && limit < images.count) {
      images = firstRows(images, limit);
      labels = labels?.subarray(0, limit);
    }
    checkImageSize(model, images, '--data');
    const H = model.hidden;
    const source = mnist ? `mnist (${split} split, seed ${seed})` : dataSpec;
    out.line(`${model.label} ${modelPath}: features of ${formatCount(images.count)} images from ${source}`);
    const start = performance.now();
    const features = await model.features(images);
    const seconds = (performance.now() - start) / 1000;
    await writeFileAtomic(outPath, npyBytes(features, [images.count, H]), `--out ${outPath}`);
    if (labelsOut !== undefined && labels) {
      await writeFileAtomic(labelsOut, npyBytes(Uint8Array.from(labels), [labels.length]), `--labels-out ${labelsOut}`);
    }
    out.line(
      `wrote ${outPath}: float32 [${images.count}, ${H}] (P(h = 1 | v), ${fmt(seconds, 3)} s)` +
        (labelsOut !== undefined ? `; labels: ${labelsOut} (uint8 [${images.count}])` : ''),
    );
    const json: JsonObject = {
      command: 'transform',
      model: modelPath,
      visible: model.visible,
      hidden: H,
      visible_type: model.visibleType,
      stack: model.stack ? model.sizes : undefined,
      depth: model.stack ? model.depth : undefined,
      data: mnist ? 'mnist' : dataSpec,
      split: mnist ? split : undefined,
      seed: mnist ? seed : undefined,
      count: images.count,
      shape: [images.count, H],
      out: outPath,
      labels_out: labelsOut,
      seconds,
      adapter: gpu.adapterName,
    };
    out.result(json);
    return 0;
  });
}
