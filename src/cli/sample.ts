// `webgpu-rbm sample`: Gibbs chains from noise on a saved model, written as a
// PNG grid: one row per kept step (--keep-every), or the last states alone.
import { flag, intOption, numberOption, parseCommand, positionals, requiredString, seedOption, withFlagNames } from './args';
import { meanFreeEnergy, parallelTempering, DEFAULT_REPLICAS } from '../index';
import type { SampleResult, TemperingResult } from '../index';
import { readStandardisation } from './loglik';
import { toPixels } from './train';
import type { OptionSpec } from './args';
import { UsageError } from './errors';
import { readModelFile } from './files';
import { isStackModel, runStackSample } from './sample-stack';
import { checkOutputPaths } from './output-paths';
import { withModelOnGpu } from './model-session';
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
  --pt                     parallel tempering: M replicas at evenly spaced
                           inverse temperatures 1 … --beta-min, swaps every
                           sweep; the β = 1 replica is kept (binary models)
  --replicas M             temperatures for --pt                        [${DEFAULT_REPLICAS}]
  --beta-min X             hottest β for --pt                            [0]
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
  out: { type: 'string' },
} as const satisfies OptionSpec;

export async function runSample(args: string[]): Promise<number> {
  const parsed = parseCommand('sample', args, OPTIONS);
  const [modelPath] = positionals(parsed, 'sample', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const chains = intOption(v, 'chains', 100, 1, MAX_TILES);
  const steps = intOption(v, 'steps', 1000, 1, MAX_STEPS);
  const keepEvery = v['keep-every'] === undefined ? undefined : intOption(v, 'keep-every', steps);
  const seed = v.seed === undefined ? undefined : seedOption(v, 0);
  const pt = flag(v, 'pt');
  if (!pt) {
    const stray = ['replicas', 'beta-min'].find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies to --pt; add --pt`);
  }
  const replicas = pt ? intOption(v, 'replicas', DEFAULT_REPLICAS, 2, 1000) : undefined;
  const betaMin = v['beta-min'] === undefined ? undefined : numberOption(v, 'beta-min', 0, { min: 0, max: 1, below: true });
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
    if (pt) r = await withFlagNames(SAMPLE_FLAGS, () => parallelTempering(model, { chains, steps, keepEvery, seed, replicas, betaMin }));
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
    if (swaps) out.line(`parallel tempering, ${replicas} replicas; swap acceptance per pair: ${swaps.map((a) => fmt(a, 3)).join(' ')}`);
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
      seconds,
      final_mean_free_energy: finalF,
      out: outPath,
      adapter: gpu.adapterName,
    };
    out.result(json);
    return 0;
  });
}
