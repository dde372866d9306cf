// `webgpu-rbm sample`: Gibbs chains from noise on a saved model, written as a
// PNG grid: one row per kept step (--keep-every), or the last states alone.
import { choiceOption, flag, intOption, numberOption, parseCommand, positionals, requiredString, seedOption, withFlagNames } from './args';
import { meanFreeEnergy, parallelTempering, replicasForTarget, DEFAULT_ADAPT_SWEEPS, DEFAULT_ADAPT_WINDOWS, DEFAULT_GEOMETRIC_BETA_MIN, DEFAULT_REPLICAS, DEFAULT_TARGET_ACCEPTANCE } from '../index';
import type { SampleResult, TemperingResult } from '../index';
import { readStandardisation } from './loglik';
import { toPixels } from './train';
import type { OptionSpec } from './args';
import { UsageError } from './errors';
import { readModelFile } from './files';
import { isStackModel, runStackSample } from './sample-stack';
import { checkOutputPaths } from './output-paths';
import { withModelOnGpu } from './model-session';
import { isPottsModelArgs, runSamplePotts } from './potts-commands';
import { imageShape, writeTilesPng } from './images';
import { fmt, Reporter } from './output';
import type { JsonObject } from './output';

/** More tiles than this make a PNG nobody can look at (and a large readback). */
const MAX_TILES = 20_000;
/** The most sweeps one command runs (hours on a CPU device already); larger is almost surely a typo. */
const MAX_STEPS = 10_000_000;
/** The sampler's options as this command spells them, for size errors. */
const SAMPLE_FLAGS = { chains: '--chains', steps: '--steps', keepEvery: '--keep-every', replicas: '--replicas' } as const;

export const SAMPLE_HELP = `Usage: webgpu-rbm sample MODEL.safetensors [options] --out samples.png

Runs Gibbs chains (v → h → v sweeps) from Bernoulli(1/2) noise and writes the
visible probabilities as a PNG grid. For a Gaussian model the visible means are
un-standardised with the mean and std stored in the model file and clipped to
[0, 1].

  --chains N               independent chains                            [100]
  --steps M                Gibbs sweeps per chain                        [1000]
  --keep-every T           also keep every T-th sweep: one grid row per kept
                           step, one column per chain (default: only the last
                           state, laid out as a square grid)
  --pt                     parallel tempering: M replicas at inverse
                           temperatures from 1 down to --beta-min, swaps every
                           sweep; the ladder is first adapted so every
                           neighbouring pair swaps at about
                           --target-acceptance, then fixed for the --steps
                           sampled sweeps; the β = 1 replica is kept (binary
                           models)
  --replicas M             temperatures for --pt                        [${DEFAULT_REPLICAS}]
  --ladder KIND            geometric | linear: spacing of the starting ladder
                           [geometric; linear when only --beta-min is given]
  --beta-min X             hottest β of the starting ladder
                           [${DEFAULT_GEOMETRIC_BETA_MIN} geometric, 0 linear]
  --base KIND              uniform | visible-bias: where the ladder leads at
                           β = 0: fair coins, or v_i ~ σ(b_i) (only W and c
                           tempered)                                   [uniform]
  --adapt-sweeps N         burn-in sweeps that adapt the ladder before the
                           --steps sampled ones; 0: keep the ladder as given [${DEFAULT_ADAPT_SWEEPS}]
  --adapt-windows W        retunes during those sweeps                  [${DEFAULT_ADAPT_WINDOWS}]
  --target-acceptance X    swap acceptance adaptation aims at per pair  [${DEFAULT_TARGET_ACCEPTANCE}]
  --seed S                 sampling seed (default: derived from the model's seed)
  --out FILE               the PNG to write
  --json                   print one JSON object on the last line of stdout
  -h, --help               show this help

Example
  webgpu-rbm sample out/mnist.safetensors --chains 10 --steps 1000 --keep-every 100 --out out/chains.png
`;

const OPTIONS = {
  chains: { type: 'string' },
  steps: { type: 'string' },
  'keep-every': { type: 'string' },
  seed: { type: 'string' },
  pt: { type: 'boolean' },
  replicas: { type: 'string' },
  'beta-min': { type: 'string' },
  ladder: { type: 'string' },
  base: { type: 'string' },
  'adapt-sweeps': { type: 'string' },
  'adapt-windows': { type: 'string' },
  'target-acceptance': { type: 'string' },
  out: { type: 'string' },
} as const satisfies OptionSpec;

export async function runSample(args: string[]): Promise<number> {
  // A Potts model's samples are sequences (FASTA or .npy codes): src/cli/potts-commands.ts.
  if (await isPottsModelArgs(args)) return runSamplePotts(args);
  const parsed = parseCommand('sample', args, OPTIONS);
  const [modelPath] = positionals(parsed, 'sample', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const chains = intOption(v, 'chains', 100, 1, MAX_TILES);
  const steps = intOption(v, 'steps', 1000, 1, MAX_STEPS);
  const keepEvery = v['keep-every'] === undefined ? undefined : intOption(v, 'keep-every', steps);
  const seed = v.seed === undefined ? undefined : seedOption(v, 0);
  const pt = flag(v, 'pt');
  const ptFlags = ['replicas', 'beta-min', 'ladder', 'base', 'adapt-sweeps', 'adapt-windows', 'target-acceptance'];
  if (!pt) {
    const stray = ptFlags.find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies to --pt; add --pt`);
  }
  const replicas = pt ? intOption(v, 'replicas', DEFAULT_REPLICAS, 2, 1000) : undefined;
  const betaMin = v['beta-min'] === undefined ? undefined : numberOption(v, 'beta-min', 0, { min: 0, max: 1, below: true });
  const ladder = v.ladder === undefined ? undefined : choiceOption(v, 'ladder', ['geometric', 'linear'] as const, 'geometric');
  if (ladder === 'geometric' && betaMin === 0) {
    throw new UsageError('--beta-min 0 cannot end a geometric ladder (its βs are ratios of 1); give --beta-min above 0 or --ladder linear');
  }
  const base = choiceOption(v, 'base', ['uniform', 'visible-bias'] as const, 'uniform');
  const adaptSweeps = intOption(v, 'adapt-sweeps', DEFAULT_ADAPT_SWEEPS, 0, MAX_STEPS);
  const adaptWindows = intOption(v, 'adapt-windows', DEFAULT_ADAPT_WINDOWS, 1, 10_000);
  const target = numberOption(v, 'target-acceptance', DEFAULT_TARGET_ACCEPTANCE, { min: 0, max: 1, above: true, below: true });
  if (adaptSweeps === 0 && (v['adapt-windows'] !== undefined || v['target-acceptance'] !== undefined)) {
    throw new UsageError('--adapt-windows and --target-acceptance tune the adaptation, which --adapt-sweeps 0 turns off; drop one');
  }
  if (adaptSweeps > 0 && Math.floor(adaptSweeps / adaptWindows) < 2) {
    throw new UsageError(
      `--adapt-sweeps ${adaptSweeps} / --adapt-windows ${adaptWindows} leaves fewer than 2 sweeps per window (every pair needs an even and an odd swap round); ` +
        `raise --adapt-sweeps to at least ${2 * adaptWindows} or lower --adapt-windows`,
    );
  }
  const adapt = adaptSweeps > 0 ? { sweeps: adaptSweeps, windows: adaptWindows, targetAcceptance: target } : false;
  const outPath = requiredString(v, 'sample', 'out', 'FILE (the PNG to write, e.g. --out samples.png)');
  if (keepEvery !== undefined && keepEvery > steps) {
    throw new UsageError(`--keep-every ${keepEvery} is more than --steps ${steps}, so no step would be kept; lower --keep-every`);
  }
  const kept = keepEvery === undefined ? 1 : Math.floor(steps / keepEvery);
  if (kept * chains > MAX_TILES) {
    throw new UsageError(`${kept} kept steps × ${chains} chains = ${kept * chains} tiles, more than ${MAX_TILES}; raise --keep-every or lower --chains`);
  }
  const out = new Reporter(flag(v, 'json'));
  await checkOutputPaths([{ flag: '--out', path: outPath, extension: '.png' }], [{ flag: 'MODEL', path: modelPath }]);

  const modelBytes = await readModelFile(modelPath);
  // A stack of RBMs (train --stack): its top RBM's chains, passed down (src/cli/sample-stack.ts).
  if (isStackModel(modelBytes)) return runStackSample(modelPath, modelBytes, { chains, steps, keepEvery, seed, pt, out: outPath }, out);
  return withModelOnGpu(modelPath, modelBytes, out, async (gpu, { model, metadata, standardisation: stored }) => {
    const shape = imageShape(metadata, model.visible);
    const start = performance.now();
    const gaussian = model.visibleType === 'gaussian';
    if (pt && gaussian) throw new UsageError('--pt supports binary (bernoulli) visible units only; this model is Gaussian');
    // Restored by the library; a Gaussian file without one gets the CLI's message naming the key.
    const standardisation = gaussian ? (stored ?? readStandardisation(metadata, model.visible, modelPath)) : undefined;
    out.line(`sampling ${chains} chains × ${steps} sweeps of a ${model.visible}-${model.hidden} RBM${pt ? ` with ${replicas} tempered replicas` : ''} on ${gpu.adapterName}`);
    let r: SampleResult | TemperingResult;
    // Sizes are checked before anything is allocated; their errors name this command's flags.
    if (pt) r = await withFlagNames(SAMPLE_FLAGS, () => parallelTempering(model, { chains, steps, keepEvery, seed, replicas, betaMin, ladder, base, adapt }));
    else r = await withFlagNames(SAMPLE_FLAGS, () => model.sample({ chains, steps, keepEvery, seed }));
    const seconds = (performance.now() - start) / 1000;
    const images = standardisation ? toPixels(r.probabilities, standardisation.mean, standardisation.std) : r.probabilities;
    // One row per kept step; a single kept state reads better as a square.
    await writeTilesPng(outPath, images, r.kept * r.chains, shape, r.kept > 1 ? r.chains : undefined);
    const swaps = 'swapAcceptance' in r ? r.swapAcceptance : undefined;
    const last = r.samples.subarray((r.kept - 1) * r.chains * model.visible);
    const finalF = await meanFreeEnergy(model, last);
    out.line(
      `${chains} chains × ${steps} sweeps of a ${model.visible}-${model.hidden} RBM in ${fmt(seconds, 3)} s; ` +
        `mean F of the final states ${fmt(finalF)}; wrote ${outPath} (${r.kept} × ${r.chains} tiles)`,
    );
    const adaptation = 'adaptation' in r ? r.adaptation : undefined;
    const first = adaptation?.windows[0];
    if (first) {
      out.line(`ladder before adaptation: ${first.betas.map((b) => fmt(b, 3)).join(' ')}`);
      out.line(`  its swap acceptance per pair (first ${adaptation.sweeps / adaptation.windows.length | 0} sweeps): ${first.acceptance.map((a) => fmt(a, 3)).join(' ')}`);
    }
    if (swaps && 'betas' in r) {
      out.line(`ladder${adaptation ? ` adapted in ${adaptation.sweeps} burn-in sweeps` : ''}: ${r.betas.map((b) => fmt(b, 3)).join(' ')}`);
      out.line(`parallel tempering, ${replicas} replicas; swap acceptance per pair over the ${steps} sampled sweeps: ${swaps.map((a) => fmt(a, 3)).join(' ')}`);
    }
    // How many replicas would reach β = 0 at the target, from the sampled sweeps' swaps.
    const t = 'swaps' in r ? r : undefined;
    const needed = t && t.swaps.attempted.every((n) => n > 0)
      ? replicasForTarget(t.betas, t.swaps.accepted, t.swaps.attempted, { targetAcceptance: target })
      : undefined;
    const hottest = t ? t.betas[t.betas.length - 1] : 0;
    if (needed !== undefined && hottest > 0) {
      out.line(`  the hottest β is ${fmt(hottest, 3)}; about ${needed} replicas would reach β = 0 at ${target} acceptance (--replicas)`);
    }
    const json: JsonObject = {
      command: 'sample',
      model: modelPath,
      visible: model.visible,
      hidden: model.hidden,
      width: shape.width,
      height: shape.height,
      chains,
      steps,
      keep_every: keepEvery ?? steps,
      kept: r.kept,
      visible_type: model.visibleType,
      pt,
      replicas,
      betas: 'betas' in r ? r.betas : undefined,
      swap_acceptance: swaps,
      ladder: pt ? (ladder ?? (betaMin !== undefined ? 'linear' : 'geometric')) : undefined,
      base: pt ? base : undefined,
      initial_betas: adaptation?.initialBetas,
      initial_swap_acceptance: first?.acceptance,
      adapt_sweeps: pt ? adaptSweeps : undefined,
      target_acceptance: adaptation ? target : undefined,
      adaptation: adaptation?.windows.map((w) => ({ betas: w.betas, swap_acceptance: w.acceptance })),
      replicas_for_target: needed,
      seconds,
      final_mean_free_energy: finalF,
      out: outPath,
      adapter: gpu.adapterName,
    };
    out.result(json);
    return 0;
  });
}
