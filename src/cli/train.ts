// `webgpu-rbm train`: CD-k / PCD-k on the bundled digits or an IDX file, with a
// progress bar, a line per epoch (reconstruction error, speed, free-energy
// gap), the model as safetensors, and optional filter and sample PNGs.
import { writeFile } from 'node:fs/promises';
import { RBM } from '../rbm/model';
import { columnMeans } from '../rbm/init';
import type { EpochStats, FitOptions } from '../rbm/fit';
import {
  choiceOption, flag, intOption, numberOption, parseCommand, positionals, requiredString, seedOption, stringOption,
} from './args';
import type { OptionSpec, Values } from './args';
import { loadData, MNIST_TEST_COUNT } from './data-node';
import { UsageError } from './errors';
import { prepareOutput } from './files';
import { openDevice } from './gpu-node';
import { writeFiltersPng, writeTilesPng } from './images';
import type { ImageShape } from './images';
import { freeEnergyGap, thresholded } from './metrics';
import { fmt, formatCount, Reporter } from './output';
import type { JsonObject, ProgressBar } from './output';

/**
 * Chosen by comparing 5 epochs of 784-256 CD-1 on the bundled digits at 0.01,
 * 0.02, 0.05, 0.1 and 0.2: 0.1 gave the crispest, most stroke-like filters and
 * a low reconstruction error (0.038; 0.2 is no better, 0.01 reaches only 0.062).
 * Long chains from noise fall mostly into the "0" basin at every rate ≥ 0.02.
 */
export const DEFAULT_LEARNING_RATE = 0.1;

const DEFAULTS = {
  data: 'mnist', hidden: 256, epochs: 5, batch: 100, k: 1, lr: DEFAULT_LEARNING_RATE, momentum: 'hinton',
  weightDecay: 1e-4, seed: 1, sampleSteps: 1000, sampleChains: 100,
} as const;

export const TRAIN_HELP = `Usage: webgpu-rbm train [options] --out model.safetensors

Trains a binary RBM with CD-k (or PCD-k) on the GPU and writes it as safetensors.

Data
  --data mnist|FILE        training images: the bundled 10,000 digits (split by
                           --seed into 8,000 train / ${MNIST_TEST_COUNT} held out) or an IDX
                           images file (*-images-idx3-ubyte[.gz])     [${DEFAULTS.data}]
  --test FILE              IDX images to measure the free-energy gap on
                           (default for mnist: the held-out digits)
  --limit N                use only the first N training images (after the split)
  --binarize MODE          stochastic (resampled each epoch) | threshold (> 0.5)
                                                                  [stochastic]
Model and training
  --hidden N               hidden units                                 [${DEFAULTS.hidden}]
  --epochs E               passes over the training images              [${DEFAULTS.epochs}]
  --batch B                mini-batch size                              [${DEFAULTS.batch}]
  --k K                    Gibbs steps per update (CD-k)                [${DEFAULTS.k}]
  --pcd                    persistent chains (PCD-k) instead of CD-k
  --lr X                   learning rate                                [${DEFAULTS.lr}]
  --momentum X|hinton      momentum, or hinton: 0.5 for 5 epochs, then 0.9 [hinton]
  --weight-decay X         L2 penalty on W                              [${DEFAULTS.weightDecay}]
  --sparsity-target X      target mean hidden activation (with --sparsity-cost) [0.1]
  --sparsity-cost X        strength of the sparsity penalty; 0 = off    [0]
  --sparsity-decay X       decay of the running activation estimate     [0.9]
  --seed S                 seeds initialisation, shuffling, binarization, split [${DEFAULTS.seed}]
Output
  --out FILE               the model (.safetensors; settings in its __metadata__)
  --filters FILE           PNG of the first up-to-100 hidden units' weights
  --samples FILE           PNG of ${DEFAULTS.sampleChains} Gibbs chains from noise (probabilities)
  --sample-steps N         Gibbs sweeps for --samples                   [${DEFAULTS.sampleSteps}]
  --json                   print one JSON object on the last line of stdout
                           (lines and progress go to stderr)
  -h, --help               show this help

The free-energy gap is mean F(test) − mean F(train) over equally many images
(thresholded at 0.5); it grows when the model overfits.
Ctrl-C stops after the current update and still writes the model (exit 130).

Example
  webgpu-rbm train --data mnist --hidden 256 --epochs 5 --out out/mnist.safetensors \\
    --filters out/filters.png --samples out/samples.png
`;

const OPTIONS = {
  data: { type: 'string' },
  test: { type: 'string' },
  limit: { type: 'string' },
  binarize: { type: 'string' },
  hidden: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  k: { type: 'string' },
  pcd: { type: 'boolean' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  'sparsity-target': { type: 'string' },
  'sparsity-cost': { type: 'string' },
  'sparsity-decay': { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  filters: { type: 'string' },
  samples: { type: 'string' },
  'sample-steps': { type: 'string' },
} as const satisfies OptionSpec;

export interface TrainSettings {
  data: string;
  test?: string;
  limit?: number;
  binarize: 'stochastic' | 'threshold';
  hidden: number;
  epochs: number;
  batch: number;
  k: number;
  pcd: boolean;
  lr: number;
  momentum: number | 'hinton';
  weightDecay: number;
  sparsityTarget?: number;
  sparsityCost?: number;
  sparsityDecay?: number;
  seed: number;
  out: string;
  filters?: string;
  samples?: string;
  sampleSteps: number;
}

/** Every flag checked before any file or GPU work. */
export function readTrainSettings(v: Values): TrainSettings {
  const momentumFlag = stringOption(v, 'momentum');
  const settings: TrainSettings = {
    data: stringOption(v, 'data') ?? DEFAULTS.data,
    test: stringOption(v, 'test'),
    limit: v.limit === undefined ? undefined : intOption(v, 'limit', 0),
    binarize: choiceOption(v, 'binarize', ['stochastic', 'threshold'] as const, 'stochastic'),
    hidden: intOption(v, 'hidden', DEFAULTS.hidden),
    epochs: intOption(v, 'epochs', DEFAULTS.epochs),
    batch: intOption(v, 'batch', DEFAULTS.batch),
    k: intOption(v, 'k', DEFAULTS.k, 1, 10_000),
    pcd: flag(v, 'pcd'),
    lr: numberOption(v, 'lr', DEFAULTS.lr, { min: 0, above: true }),
    momentum: readMomentum(momentumFlag),
    weightDecay: numberOption(v, 'weight-decay', DEFAULTS.weightDecay, { min: 0 }),
    sparsityTarget: numberOption(v, 'sparsity-target', undefined, { min: 0, max: 1, above: true, below: true }),
    sparsityCost: numberOption(v, 'sparsity-cost', undefined, { min: 0 }),
    sparsityDecay: numberOption(v, 'sparsity-decay', undefined, { min: 0, max: 1, below: true }),
    seed: seedOption(v, DEFAULTS.seed),
    out: requiredString(v, 'train', 'out', 'FILE (where to write the model, e.g. --out model.safetensors)'),
    filters: stringOption(v, 'filters'),
    samples: stringOption(v, 'samples'),
    sampleSteps: intOption(v, 'sample-steps', DEFAULTS.sampleSteps),
  };
  if (settings.sparsityTarget !== undefined && settings.sparsityCost === undefined) {
    throw new UsageError('--sparsity-target has no effect without --sparsity-cost; add e.g. --sparsity-cost 0.01');
  }
  return settings;
}

function readMomentum(s: string | undefined): number | 'hinton' {
  if (s === undefined || s === 'hinton') return 'hinton';
  const m = s.trim() === '' ? NaN : Number(s);
  if (!(m >= 0 && m < 1)) throw new UsageError(`--momentum must be a number in [0, 1) or "hinton", got "${s}"`);
  return m;
}

function momentumLabel(m: number | 'hinton'): string {
  return typeof m === 'number' ? String(m) : m;
}

/** The model file's __metadata__: every value a string, as safetensors requires. */
function modelMetadata(s: TrainSettings, shape: ImageShape, V: number, run: { reconError: number[]; gaps: number[]; cancelled: boolean; epochsDone: number }, source: string): Record<string, string> {
  const meta: Record<string, string> = {
    format: 'webgpu-rbm',
    // "visible" is the unit type in this project's model format, so the sizes get their own keys.
    visible: 'bernoulli',
    visible_units: String(V),
    hidden_units: String(s.hidden),
    width: String(shape.width),
    height: String(shape.height),
    epochs: String(run.epochsDone),
    batch: String(s.batch),
    k: String(s.k),
    pcd: String(s.pcd),
    lr: String(s.lr),
    momentum: momentumLabel(s.momentum),
    weight_decay: String(s.weightDecay),
    binarize: s.binarize,
    seed: String(s.seed),
    data: source,
    recon_error: JSON.stringify(run.reconError),
    date: new Date().toISOString(),
  };
  if (s.limit !== undefined) meta.limit = String(s.limit);
  if (s.sparsityCost !== undefined) {
    meta.sparsity_cost = String(s.sparsityCost);
    meta.sparsity_target = String(s.sparsityTarget ?? 0.1);
    if (s.sparsityDecay !== undefined) meta.sparsity_decay = String(s.sparsityDecay);
  }
  if (run.gaps.length > 0) meta.free_energy_gap = JSON.stringify(run.gaps);
  if (run.cancelled) meta.cancelled = 'true';
  return meta;
}

/** Checks every output path up front: a typo should not cost a training run. */
async function prepareOutputs(s: TrainSettings): Promise<void> {
  await prepareOutput(s.out, '--out', '.safetensors');
  if (s.filters) await prepareOutput(s.filters, '--filters', '.png');
  if (s.samples) await prepareOutput(s.samples, '--samples', '.png');
}

export async function runTrain(args: string[]): Promise<number> {
  const parsed = parseCommand('train', args, OPTIONS);
  positionals(parsed, 'train', []);
  const s = readTrainSettings(parsed.values);
  const out = new Reporter(flag(parsed.values, 'json'));
  await prepareOutputs(s);

  const data = await loadData({ data: s.data, test: s.test, seed: s.seed, limit: s.limit });
  const { train, test } = data;
  const V = train.width * train.height;
  const shape = { width: train.width, height: train.height };
  if (train.count < s.batch) {
    throw new UsageError(
      `--batch ${s.batch} is larger than the ${train.count} training images; lower --batch${s.limit !== undefined ? ' or raise --limit' : ''}`,
    );
  }

  const gpu = await openDevice();
  let model: RBM | undefined;
  const controller = new AbortController();
  const interrupt = (): void => {
    process.stderr.write('\nwebgpu-rbm: interrupted; stopping after the current update (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.once('SIGINT', interrupt);
  try {
    out.line(
      `training a ${V}-${s.hidden} RBM on ${formatCount(train.count)} ${shape.width}×${shape.height} images from ${data.source}` +
        `${test ? ` (${formatCount(test.count)} held out)` : ''}, ${s.pcd ? 'PCD' : 'CD'}-${s.k}, on ${gpu.adapterName}`,
    );
    model = RBM.create(gpu.device, {
      visible: V,
      hidden: s.hidden,
      seed: s.seed,
      visibleMarginals: columnMeans(train.pixels, train.count, V),
    });
    const trained = model;
    // Equally many thresholded rows of each set, made once for every epoch's gap.
    const gapRows = test ? Math.min(train.count, test.count) : 0;
    const trainBinary = test ? thresholded(train.pixels.subarray(0, gapRows * V)) : undefined;
    const testBinary = test ? thresholded(test.pixels.subarray(0, gapRows * V)) : undefined;
    const gaps: number[] = [];
    let bar: ProgressBar | undefined;

    const onEpoch = async (e: EpochStats): Promise<void> => {
      bar?.stop();
      bar = undefined;
      let gapText = '';
      if (trainBinary && testBinary) {
        const gap = await freeEnergyGap(trained, trainBinary, testBinary);
        gaps.push(gap);
        gapText = `  F gap ${gap >= 0 ? '+' : ''}${fmt(gap, 3)}`;
      }
      out.line(
        `epoch ${e.epoch + 1}/${s.epochs}  recon ${fmt(e.reconError)}  ${formatCount(e.samplesPerSecond)} samples/s  ${fmt(e.seconds, 3)} s${gapText}`,
      );
    };
    const options: FitOptions = {
      epochs: s.epochs,
      batchSize: s.batch,
      k: s.k,
      persistent: s.pcd,
      learningRate: s.lr,
      momentum: s.momentum,
      weightDecay: s.weightDecay,
      sparsityTarget: s.sparsityTarget,
      sparsityCost: s.sparsityCost,
      sparsityDecay: s.sparsityDecay,
      binarize: s.binarize,
      seed: s.seed,
      signal: controller.signal,
      onProgress: (p) => {
        bar ??= out.bar(p.batchesPerEpoch, `epoch ${p.epoch + 1}/${s.epochs}`);
        bar.update(p.epochStep, p.samplesPerSecond);
      },
      onEpoch,
    };
    const result = await model.train(train.pixels, options).result;
    bar?.stop();
    if (result.cancelled) out.line(`stopped after ${result.epochs.length} complete epoch(s) and ${result.updates} updates`);

    const metadata = modelMetadata(s, shape, V, { reconError: result.reconError, gaps, cancelled: result.cancelled, epochsDone: result.epochs.length }, data.source);
    await writeFile(s.out, await model.toSafetensors(metadata));
    out.line(`wrote ${s.out} (${V}×${s.hidden}, ${fmt(result.seconds, 3)} s of training, ${formatCount(result.samplesPerSecond)} samples/s)`);
    if (s.filters) {
      const n = await writeFiltersPng(s.filters, model, shape);
      out.line(`wrote ${s.filters} (${n} filters)`);
    }
    if (s.samples) {
      const r = await model.sample({ chains: DEFAULTS.sampleChains, steps: s.sampleSteps });
      await writeTilesPng(s.samples, r.probabilities, r.chains, shape);
      out.line(`wrote ${s.samples} (${r.chains} chains after ${s.sampleSteps} Gibbs sweeps)`);
    }

    const json: JsonObject = {
      command: 'train',
      visible: V,
      hidden: s.hidden,
      width: shape.width,
      height: shape.height,
      epochs: result.epochs.length,
      batch: s.batch,
      k: s.k,
      pcd: s.pcd,
      lr: s.lr,
      momentum: s.momentum,
      weight_decay: s.weightDecay,
      seed: s.seed,
      data: data.source,
      train_count: train.count,
      test_count: test?.count,
      updates: result.updates,
      seconds: result.seconds,
      samples_per_second: result.samplesPerSecond,
      recon_error: result.reconError,
      epoch_seconds: result.epochs.map((e) => e.seconds),
      free_energy_gap: test ? gaps : undefined,
      cancelled: result.cancelled,
      out: s.out,
      filters: s.filters,
      samples: s.samples,
      adapter: gpu.adapterName,
    };
    out.result(json);
    return result.cancelled ? 130 : 0;
  } finally {
    process.removeListener('SIGINT', interrupt);
    model?.dispose();
    gpu.close();
  }
}
