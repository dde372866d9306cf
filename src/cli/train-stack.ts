// `webgpu-rbm train --stack H1,H2,…`: a stack of RBMs (a deep belief net)
// trained greedily, layer by layer (RBMStack.fit): the bottom RBM on the
// images, each RBM above on the hidden probabilities P(h | v) of the one below
// (of the images thresholded at 0.5, as transform and classify show them to a
// binary model), resampled as Bernoulli states every epoch. One file holds the
// whole stack (tensors layer0.W, …; see src/rbm/stack-file.ts); transform,
// classify and sample read it.
import { DeviceLostError, DivergenceError, imageShapeMetadata, RBMStack, sourceColumnMeans, stackToSafetensors } from '../index';
import type { EpochStats, FitOptions, FitResult, ImageShape, StackFitResult } from '../index';
import { flag, parseCommand, positionals, stringOption, withFlagNames } from './args';
import type { OptionSpec, Values } from './args';
import { writeFileAtomic } from './atomic-write';
import { loadData } from './data-node';
import { CliError, UsageError } from './errors';
import { openDevice } from './gpu-node';
import { writeFiltersPng, writeTilesPng } from './images';
import { thresholded } from './metrics';
import { fmt, formatCount, Reporter } from './output';
import type { JsonObject, ProgressBar } from './output';
import { SignalGuard } from './signals';
import { checkTrainingPaths, DATA_FLAGS, readTrainingFlags, SINGLE_RBM_OPTIONS, TRAIN_DEFAULTS, TRAINING_OPTIONS } from './train-flags';
import type { TrainingFlags } from './train-flags';

/** The most layers a stack may have (a typo guard: each is a whole RBM). */
export const MAX_STACK_LAYERS = 16;

/** train's flags: a stack run takes the training flags and --stack, and refuses the others by name (REFUSED). */
const OPTIONS = { stack: { type: 'string' }, ...TRAINING_OPTIONS, ...SINGLE_RBM_OPTIONS } as const satisfies OptionSpec;

/** train flags a stack run refuses, with the reason and the fix. */
const REFUSED: Record<keyof typeof SINGLE_RBM_OPTIONS, string> = {
  hidden: '--stack gives every hidden layer\'s size (e.g. --stack 500,500); drop --hidden',
  pt: '--stack trains each layer with CD-k or PCD-k; drop --pt',
  replicas: '--replicas applies to --pt, which --stack does not take; drop it',
  'beta-min': '--beta-min applies to --pt, which --stack does not take; drop it',
  'eval-every': '--eval-every (log-likelihoods) is for a single RBM: a stack has no tractable likelihood; drop it (classify the features instead)',
  'eval-method': '--eval-method applies to --eval-every, which --stack does not take; drop it',
  'ais-betas': '--ais-betas applies to --eval-every, which --stack does not take; drop it',
  'ais-runs': '--ais-runs applies to --eval-every, which --stack does not take; drop it',
  log: '--log is not supported with --stack yet; use --json (per-layer reconstruction errors) instead',
  checkpoint: '--checkpoint/--resume are not supported with --stack yet; drop --checkpoint',
  'checkpoint-every': '--checkpoint/--resume are not supported with --stack yet; drop --checkpoint-every',
  resume: '--checkpoint/--resume are not supported with --stack yet; drop --resume',
};

/** A stack's settings: train's training flags (and defaults) for every layer, and the layers. */
export interface StackSettings extends TrainingFlags {
  /** Hidden layer sizes, bottom to top. */
  hidden: number[];
  /** Epochs of each layer. */
  epochs: number[];
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
  let epochs: number[] = hidden.map(() => TRAIN_DEFAULTS.epochs);
  if (epochsText !== undefined) {
    const list = parseIntList(epochsText, 'epochs', hidden.length > 1 ? `5 or --epochs ${hidden.map(() => 5).join(',')}` : '5');
    if (list.length !== 1 && list.length !== hidden.length) {
      throw new UsageError(`--epochs ${epochsText} lists ${list.length} values for ${hidden.length} layers; give one for all or one per layer`);
    }
    epochs = hidden.map((_, l) => list[list.length === 1 ? 0 : l]);
  }
  const flags = readTrainingFlags(v, { gaussian: false, out: 'FILE (where to write the stack, e.g. --out stack.safetensors)' });
  return { ...flags, hidden, epochs };
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
  await checkTrainingPaths(s);

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
      ...(s.dataBudget !== undefined ? { dataBudgetBytes: s.dataBudget } : {}),
      learningRate: s.lrSchedule === 'linear' ? { schedule: 'linear', rate: s.lr } : s.lr,
      // Off spelled out: fit's default for binary units is centered.
      centered: s.centered !== undefined ? { rate: s.centered } : false,
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
      result = await withFlagNames({ ...DATA_FLAGS, chains: '--chains' }, () => trained.fit(train.data, {
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
      const r = await stack.sample({ chains: TRAIN_DEFAULTS.sampleChains, steps: s.sampleSteps });
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
