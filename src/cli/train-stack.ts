// `webgpu-rbm train --stack H1,H2,…`: a stack of RBMs (a deep belief net)
// trained greedily, layer by layer (RBMStack.fit): the bottom RBM on the
// images, each RBM above on the hidden probabilities P(h | v) of the one below
// (of the images thresholded at 0.5, as transform and classify show them to a
// binary model), resampled as Bernoulli states every epoch. One file holds the
// whole stack (tensors layer0.W, …; see src/rbm/stack-file.ts); transform,
// classify and sample read it.
import {
  DEFAULT_CENTERING_RATE, DeviceLostError, DivergenceError, imageShapeMetadata, RBMStack, sourceColumnMeans, stackToSafetensors,
} from '../index';
import type { EpochStats, FitOptions, FitResult, ImageShape, StackFitResult } from '../index';
import { flag, intOption, numberOption, parseCommand, positionals, requiredString, seedOption, stringOption, withFlagNames } from './args';
import type { OptionSpec, Values } from './args';
import { writeFileAtomic } from './atomic-write';
import { loadData } from './data-node';
import { CliError, UsageError } from './errors';
import { openDevice } from './gpu-node';
import { writeFiltersPng, writeTilesPng } from './images';
import { thresholded } from './metrics';
import { checkOutputPaths } from './output-paths';
import type { InputPath } from './output-paths';
import { fmt, formatCount, Reporter } from './output';
import type { JsonObject, ProgressBar } from './output';
import { SignalGuard } from './signals';

/**
 * A stack's defaults: the earlier defaults of a single RBM's `train` (CD-1, batch 100, a constant
 * lr 0.1, Hinton momentum, plain gradient), with which its measurements were made; `train`'s
 * newer defaults (PCD-1, batch 20, a decaying rate, centered gradients) are flags here.
 */
export const STACK_DEFAULTS = {
  data: 'mnist', epochs: 5, batch: 100, k: 1, lr: 0.1, weightDecay: 1e-4, seed: 1, sampleSteps: 1000, sampleChains: 100,
} as const;

/** The most layers a stack may have (a typo guard: each is a whole RBM). */
export const MAX_STACK_LAYERS = 16;

/** train's flags that a stack run takes; any other train flag is refused by name. */
const OPTIONS = {
  stack: { type: 'string' },
  data: { type: 'string' },
  test: { type: 'string' },
  limit: { type: 'string' },
  binarize: { type: 'string' },
  visible: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  k: { type: 'string' },
  pcd: { type: 'boolean' },
  cd: { type: 'boolean' },
  chains: { type: 'string' },
  lr: { type: 'string' },
  'lr-schedule': { type: 'string' },
  centered: { type: 'boolean' },
  'no-centered': { type: 'boolean' },
  'centering-rate': { type: 'string' },
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
  // train's other flags: parsed so that each gets its own message below.
  hidden: { type: 'string' },
  pt: { type: 'boolean' },
  replicas: { type: 'string' },
  'beta-min': { type: 'string' },
  'eval-every': { type: 'string' },
  'ais-betas': { type: 'string' },
  'ais-runs': { type: 'string' },
  log: { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'string' },
} as const satisfies OptionSpec;

/** train flags a stack run refuses, with the reason and the fix. */
const REFUSED: Record<string, string> = {
  hidden: '--stack gives every hidden layer\'s size (e.g. --stack 500,500); drop --hidden',
  pt: '--stack trains each layer with CD-k or PCD-k; drop --pt',
  replicas: '--replicas applies to --pt, which --stack does not take; drop it',
  'beta-min': '--beta-min applies to --pt, which --stack does not take; drop it',
  'eval-every': '--eval-every (log-likelihoods) is for a single RBM: a stack has no tractable likelihood; drop it (classify the features instead)',
  'ais-betas': '--ais-betas applies to --eval-every, which --stack does not take; drop it',
  'ais-runs': '--ais-runs applies to --eval-every, which --stack does not take; drop it',
  log: '--log is not supported with --stack yet; use --json (per-layer reconstruction errors) instead',
  checkpoint: '--checkpoint/--resume are not supported with --stack yet; drop --checkpoint',
  'checkpoint-every': '--checkpoint/--resume are not supported with --stack yet; drop --checkpoint-every',
  resume: '--checkpoint/--resume are not supported with --stack yet; drop --resume',
};

export interface StackSettings {
  /** Hidden layer sizes, bottom to top. */
  hidden: number[];
  data: string;
  test?: string;
  limit?: number;
  binarize: 'stochastic' | 'threshold';
  /** Epochs of each layer. */
  epochs: number[];
  batch: number;
  k: number;
  pcd: boolean;
  chains?: number;
  lr: number;
  /** constant, or linear: from --lr down to 0 over each layer's epochs. */
  lrSchedule: 'constant' | 'linear';
  /** Centered gradients' offset rate (--centered), or undefined for the plain gradient. */
  centered?: number;
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

/** A comma-separated list of positive integers, e.g. "500,500"; `what` names an entry in errors. */
export function parseIntList(text: string, flagName: string, example: string): number[] {
  if (text.trim() === '') throw new UsageError(`--${flagName} needs a comma-separated list of positive integers, e.g. --${flagName} ${example}`);
  const parts = text.split(',');
  return parts.map((p, i) => {
    const n = /^\s*\d+\s*$/.test(p) ? Number(p) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) {
      throw new UsageError(
        `--${flagName} ${text}: entry ${i + 1} (${JSON.stringify(p)}) is not a positive integer; write the sizes bottom to top, e.g. --${flagName} ${example}`,
      );
    }
    return n;
  });
}

/** Every flag checked before any file or GPU work. */
export function readStackSettings(v: Values): StackSettings {
  for (const [f, why] of Object.entries(REFUSED)) if (v[f] !== undefined) throw new UsageError(why);
  if (stringOption(v, 'visible') !== undefined && v.visible !== 'bernoulli') {
    throw new UsageError(`--stack trains binary (bernoulli) visible units only for now; drop --visible ${String(v.visible)}`);
  }
  const hidden = parseIntList(stringOption(v, 'stack') ?? '', 'stack', '500,500');
  if (hidden.length > MAX_STACK_LAYERS) throw new UsageError(`--stack lists ${hidden.length} layers; at most ${MAX_STACK_LAYERS}`);
  const epochsText = stringOption(v, 'epochs');
  let epochs: number[] = hidden.map(() => STACK_DEFAULTS.epochs);
  if (epochsText !== undefined) {
    const list = parseIntList(epochsText, 'epochs', hidden.length > 1 ? `5 or --epochs ${hidden.map(() => 5).join(',')}` : '5');
    if (list.length !== 1 && list.length !== hidden.length) {
      throw new UsageError(`--epochs ${epochsText} lists ${list.length} values for ${hidden.length} layers; give one for all or one per layer`);
    }
    epochs = hidden.map((_, l) => list[list.length === 1 ? 0 : l]);
  }
  const pcd = flag(v, 'pcd');
  if (pcd && flag(v, 'cd')) throw new UsageError('--cd and --pcd are two different negative phases; choose one');
  if (flag(v, 'centered') && flag(v, 'no-centered')) throw new UsageError('--centered and --no-centered contradict each other; choose one');
  if (v['centering-rate'] !== undefined && !flag(v, 'centered')) {
    throw new UsageError('--centering-rate only applies to centered gradients; add --centered (a stack trains with the plain gradient by default)');
  }
  if (v.chains !== undefined && !pcd) throw new UsageError('--chains only applies to --pcd (CD-k starts its chains from the batch); add --pcd');
  const momentumText = stringOption(v, 'momentum');
  let momentum: number | 'hinton' = 'hinton';
  if (momentumText !== undefined && momentumText !== 'hinton') {
    momentum = numberOption(v, 'momentum', 0, { min: 0, max: 1, below: true });
  }
  const s: StackSettings = {
    hidden,
    data: stringOption(v, 'data') ?? STACK_DEFAULTS.data,
    test: stringOption(v, 'test'),
    limit: v.limit === undefined ? undefined : intOption(v, 'limit', 1),
    binarize: v.binarize === undefined ? 'stochastic' : (() => {
      if (v.binarize !== 'stochastic' && v.binarize !== 'threshold') throw new UsageError(`--binarize must be one of stochastic, threshold, got "${String(v.binarize)}"`);
      return v.binarize;
    })(),
    epochs,
    batch: intOption(v, 'batch', STACK_DEFAULTS.batch),
    k: intOption(v, 'k', STACK_DEFAULTS.k, 1, 10_000),
    pcd,
    chains: v.chains === undefined ? undefined : intOption(v, 'chains', 1),
    lr: numberOption(v, 'lr', STACK_DEFAULTS.lr, { min: 0, above: true }),
    lrSchedule: v['lr-schedule'] === undefined ? 'constant' : (() => {
      if (v['lr-schedule'] !== 'constant' && v['lr-schedule'] !== 'linear') {
        throw new UsageError(`--lr-schedule must be one of constant, linear, got "${String(v['lr-schedule'])}"`);
      }
      return v['lr-schedule'];
    })(),
    centered: flag(v, 'centered') ? numberOption(v, 'centering-rate', DEFAULT_CENTERING_RATE, { min: 0, max: 1 }) : undefined,
    momentum,
    weightDecay: numberOption(v, 'weight-decay', STACK_DEFAULTS.weightDecay, { min: 0 }),
    sparsityTarget: numberOption(v, 'sparsity-target', undefined, { min: 0, max: 1, above: true, below: true }),
    sparsityCost: numberOption(v, 'sparsity-cost', undefined, { min: 0 }),
    sparsityDecay: numberOption(v, 'sparsity-decay', undefined, { min: 0, max: 1, below: true }),
    seed: seedOption(v, STACK_DEFAULTS.seed),
    out: requiredString(v, 'train', 'out', 'FILE (where to write the stack, e.g. --out stack.safetensors)'),
    filters: stringOption(v, 'filters'),
    samples: stringOption(v, 'samples'),
    sampleSteps: intOption(v, 'sample-steps', STACK_DEFAULTS.sampleSteps),
  };
  if (s.sparsityTarget !== undefined && s.sparsityCost === undefined) {
    throw new UsageError('--sparsity-target has no effect without --sparsity-cost; add e.g. --sparsity-cost 0.01');
  }
  return s;
}

/** Whether train's arguments ask for a stack (--stack given, as "--stack X" or "--stack=X"). */
export function wantsStack(args: readonly string[]): boolean {
  return args.some((a) => a === '--stack' || a.startsWith('--stack='));
}

/** One layer's training record in the file (layer_metadata). */
function layerRecord(s: StackSettings, sizes: number[], l: number, r: FitResult | undefined): Record<string, string> {
  const rec: Record<string, string> = {
    visible_units: String(sizes[l]),
    hidden_units: String(s.hidden[l]),
    trained_on: l === 0 ? 'data' : `P(h|v) of layer ${l - 1} (pixels thresholded at 0.5 below)`,
    binarize: l === 0 ? s.binarize : 'stochastic',
    epochs: String(r ? r.epochs.length : 0),
    batch: String(s.batch),
    k: String(s.k),
    pcd: String(s.pcd),
    ...(s.chains !== undefined ? { chains: String(s.chains) } : {}),
    lr: String(s.lr),
    lr_schedule: s.lrSchedule,
    ...(s.centered !== undefined ? { centered: 'true', centering_rate: String(s.centered) } : {}),
    momentum: String(s.momentum),
    weight_decay: String(s.weightDecay),
    seed: String((s.seed + l) >>> 0),
    recon_error: JSON.stringify(r ? r.reconError : []),
  };
  if (s.sparsityCost !== undefined) {
    rec.sparsity_cost = String(s.sparsityCost);
    rec.sparsity_target = String(s.sparsityTarget ?? 0.1);
    if (s.sparsityDecay !== undefined) rec.sparsity_decay = String(s.sparsityDecay);
  }
  return rec;
}

export async function runTrainStack(args: string[]): Promise<number> {
  const parsed = parseCommand('train', args, OPTIONS);
  positionals(parsed, 'train', []);
  const s = readStackSettings(parsed.values);
  const out = new Reporter(flag(parsed.values, 'json'));
  const inputs: InputPath[] = [];
  if (s.data !== 'mnist') inputs.push({ flag: '--data', path: s.data });
  if (s.test !== undefined) inputs.push({ flag: '--test', path: s.test });
  await checkOutputPaths(
    [
      { flag: '--out', path: s.out, extension: '.safetensors' },
      ...(s.filters !== undefined ? [{ flag: '--filters', path: s.filters, extension: '.png' }] : []),
      ...(s.samples !== undefined ? [{ flag: '--samples', path: s.samples, extension: '.png' }] : []),
    ],
    inputs,
  );

  const data = await loadData({ data: s.data, test: s.test, seed: s.seed, limit: s.limit });
  const { train } = data;
  const V = train.width * train.height;
  const shape: ImageShape = { width: train.width, height: train.height };
  const sizes = [V, ...s.hidden];
  const perEpoch = Math.floor(train.count / s.batch);
  if (perEpoch < 1) throw new UsageError(`--batch ${s.batch} is more than the ${formatCount(train.count)} training images; lower --batch`);
  const maxEpochs = Math.floor(0xffffffff / perEpoch);
  if (Math.max(...s.epochs) > maxEpochs) {
    throw new UsageError(`--epochs ${Math.max(...s.epochs)} × ${perEpoch} updates per epoch would wrap the GPU's random-number counter; use at most --epochs ${maxEpochs}`);
  }

  const gpu = await openDevice();
  let stack: RBMStack | undefined;
  // Signals during training stop after the current update; the layers trained so far are still saved.
  const guard = new SignalGuard('finish', (line) => out.warn(line), () => gpu.close());
  try {
    const method = `${s.pcd ? 'PCD' : 'CD'}-${s.k}`;
    out.line(
      `training a ${sizes.join('-')} stack of ${s.hidden.length} RBMs greedily on ${formatCount(train.count)} ${shape.width}×${shape.height} images ` +
        `from ${data.source}, ${method}, lr ${s.lr}, epochs ${s.epochs.join(',')}, on ${gpu.adapterName}`,
    );
    stack = RBMStack.create(gpu.device, { sizes, seed: s.seed, visibleMarginals: sourceColumnMeans(train.data, V) });
    const trained = stack;
    let bar: ProgressBar | undefined;
    const layerSeconds: number[] = [];
    const layerOptions = (l: number): FitOptions => ({
      epochs: s.epochs[l],
      batchSize: s.batch,
      k: s.k,
      persistent: s.pcd,
      ...(s.chains !== undefined ? { chains: s.chains } : {}),
      learningRate: s.lrSchedule === 'linear' ? { schedule: 'linear', rate: s.lr } : s.lr,
      ...(s.centered !== undefined ? { centered: { rate: s.centered } } : {}),
      momentum: s.momentum,
      weightDecay: s.weightDecay,
      ...(s.sparsityTarget !== undefined ? { sparsityTarget: s.sparsityTarget } : {}),
      ...(s.sparsityCost !== undefined ? { sparsityCost: s.sparsityCost } : {}),
      ...(s.sparsityDecay !== undefined ? { sparsityDecay: s.sparsityDecay } : {}),
      ...(l === 0 ? { binarize: s.binarize } : {}),
      onProgress: (p) => {
        bar ??= out.bar(p.batchesPerEpoch, `layer ${l + 1}/${s.hidden.length} epoch ${p.epoch + 1}/${s.epochs[l]}`);
        bar.update(p.epochStep, p.samplesPerSecond);
      },
      onEpoch: (e: EpochStats) => {
        bar?.stop();
        bar = undefined;
        out.line(
          `layer ${l + 1}/${s.hidden.length} (${sizes[l]}-${sizes[l + 1]}) epoch ${e.epoch + 1}/${s.epochs[l]}  recon ${fmt(e.reconError)}  ` +
            `${formatCount(e.samplesPerSecond)} samples/s  ${fmt(e.seconds, 3)} s`,
        );
      },
    });
    let result: StackFitResult;
    try {
      result = await withFlagNames({ chains: '--chains' }, () => trained.fit(train.data, {
        layers: layerOptions,
        // The layers above see the images as transform and classify show them to a binary model.
        input: thresholded,
        signal: guard.signal,
        onLayerStart: (i) => {
          if (i.layer > 0) out.line(`layer ${i.layer + 1}: P(h|v) of layer ${i.layer} for ${formatCount(i.rows)} images in ${fmt(i.upPassSeconds, 3)} s`);
        },
        onLayerEnd: (i) => void layerSeconds.push(i.result.seconds),
      }));
    } catch (e) {
      if (e instanceof DivergenceError) {
        throw new CliError(
          `training diverged in epoch ${e.epoch + 1} (by update ${e.update}): lower --lr (it was ${s.lr}; try --lr ${fmt(e.suggestedLearningRate, 3)}). ${s.out} was not written`,
        );
      }
      if (e instanceof DeviceLostError) throw new CliError(`${e.message.replace(/\. Its buffers are gone.*$/, '')}; ${s.out} was not written`);
      throw e;
    }
    bar?.stop();
    // Layers with at least one update are kept; a stopped run saves the stack up to the layer it was training.
    const done = result.layers.filter((r) => r.updates > 0).length;
    if (done === 0) {
      out.line(`nothing written: no update had finished (${s.out} is unchanged)`);
      return guard.exitCode ?? 130;
    }
    if (result.cancelled) out.line(`stopped during layer ${result.layers.length}; saving the ${done} layer(s) trained so far`);
    const params = await Promise.all(stack.layers.slice(0, done).map((m) => m.readParams()));
    if (!params.every((p) => [p.W, p.b, p.c].every((a) => a.every(Number.isFinite)))) {
      throw new CliError(`training produced non-finite parameters; lower --lr (now ${s.lr}, try ${s.lr / 10}). ${s.out} was not written`);
    }
    const keptSizes = sizes.slice(0, done + 1);
    const metadata: Record<string, string> = {
      ...imageShapeMetadata(shape),
      seed: String(s.seed),
      data: data.source,
      ...(s.limit !== undefined ? { limit: String(s.limit) } : {}),
      ...(result.cancelled ? { cancelled: 'true' } : {}),
    };
    const layerMetadata = keptSizes.slice(1).map((_, l) => layerRecord(s, sizes, l, result.layers[l]));
    await writeFileAtomic(s.out, stackToSafetensors({ sizes: keptSizes, layers: params, visibleType: 'bernoulli', metadata, layerMetadata }), `--out ${s.out}`);
    guard.setMode('now');
    const trainingSeconds = layerSeconds.reduce((a, b) => a + b, 0);
    out.line(
      `wrote ${s.out} (${keptSizes.join('-')}, ${fmt(trainingSeconds, 3)} s of training, ${fmt(result.upPassSeconds, 3)} s of up-passes)`,
    );
    if (s.filters) {
      const n = await writeFiltersPng(s.filters, stack.layers[0], shape);
      out.line(`wrote ${s.filters} (${n} filters of layer 1)`);
    }
    if (s.samples && guard.received) {
      out.line(`skipped ${s.samples}: stopped by ${guard.received}`);
    } else if (s.samples && done < stack.depth) {
      out.line(`skipped ${s.samples}: the stack's top layer was not trained`);
    } else if (s.samples) {
      const r = await stack.sample({ chains: STACK_DEFAULTS.sampleChains, steps: s.sampleSteps });
      await writeTilesPng(s.samples, r.probabilities, r.chains, shape);
      out.line(`wrote ${s.samples} (${r.chains} chains after ${s.sampleSteps} Gibbs sweeps in the top RBM, passed down)`);
    }
    const json: JsonObject = {
      command: 'train',
      stack: keptSizes,
      visible: V,
      hidden: keptSizes[keptSizes.length - 1],
      layers: done,
      width: shape.width,
      height: shape.height,
      epochs: s.epochs,
      batch: s.batch,
      method: s.pcd ? 'pcd' : 'cd',
      k: s.k,
      lr: s.lr,
      lr_schedule: s.lrSchedule,
      centering_rate: s.centered,
      momentum: s.momentum,
      weight_decay: s.weightDecay,
      binarize: s.binarize,
      seed: s.seed,
      data: data.source,
      train_count: train.count,
      seconds: trainingSeconds,
      up_pass_seconds: result.upPassSeconds,
      layer_seconds: layerSeconds,
      samples_per_second: result.layers.map((r) => r.samplesPerSecond),
      recon_error: result.layers.map((r) => r.reconError),
      cancelled: result.cancelled,
      out: s.out,
      filters: s.filters,
      samples: s.samples,
      adapter: gpu.adapterName,
    };
    out.result(json);
    return guard.exitCode ?? (result.cancelled ? 130 : 0);
  } finally {
    guard.dispose();
    stack?.dispose();
    gpu.close();
  }
}
