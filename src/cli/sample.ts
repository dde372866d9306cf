// `webgpu-rbm sample`: Gibbs chains from noise on a saved model, written as a
// PNG grid: one row per kept step (--keep-every), or the last states alone.
import { flag, intOption, parseCommand, positionals, requiredString, seedOption } from './args';
import type { OptionSpec } from './args';
import { UsageError } from './errors';
import { loadModel, readModelFile, prepareOutput } from './files';
import { openDevice } from './gpu-node';
import { imageShape, writeTilesPng } from './images';
import { meanFreeEnergy } from './metrics';
import { fmt, Reporter } from './output';
import type { JsonObject } from './output';

/** More tiles than this make a PNG nobody can look at (and a large readback). */
const MAX_TILES = 20_000;

export const SAMPLE_HELP = `Usage: webgpu-rbm sample MODEL.safetensors [options] --out samples.png

Runs Gibbs chains (v → h → v sweeps) from Bernoulli(1/2) noise and writes the
visible probabilities as a PNG grid.

  --chains N               independent chains                            [100]
  --steps M                Gibbs sweeps per chain                        [1000]
  --keep-every T           also keep every T-th sweep: one grid row per kept
                           step, one column per chain (default: only the last
                           state, laid out as a square grid)
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
  out: { type: 'string' },
} as const satisfies OptionSpec;

export async function runSample(args: string[]): Promise<number> {
  const parsed = parseCommand('sample', args, OPTIONS);
  const [modelPath] = positionals(parsed, 'sample', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const chains = intOption(v, 'chains', 100);
  const steps = intOption(v, 'steps', 1000);
  const keepEvery = v['keep-every'] === undefined ? undefined : intOption(v, 'keep-every', steps);
  const seed = v.seed === undefined ? undefined : seedOption(v, 0);
  const outPath = requiredString(v, 'sample', 'out', 'FILE (the PNG to write, e.g. --out samples.png)');
  if (keepEvery !== undefined && keepEvery > steps) {
    throw new UsageError(`--keep-every ${keepEvery} is more than --steps ${steps}, so no step would be kept; lower --keep-every`);
  }
  const kept = keepEvery === undefined ? 1 : Math.floor(steps / keepEvery);
  if (kept * chains > MAX_TILES) {
    throw new UsageError(`${kept} kept steps × ${chains} chains = ${kept * chains} tiles, more than ${MAX_TILES}; raise --keep-every or lower --chains`);
  }
  const out = new Reporter(flag(v, 'json'));
  await prepareOutput(outPath, '--out', '.png');

  const modelBytes = await readModelFile(modelPath);
  const gpu = await openDevice();
  try {
    const { model, metadata } = loadModel(gpu.device, modelPath, modelBytes);
    try {
      const shape = imageShape(metadata, model.visible);
      const start = performance.now();
      const r = await model.sample({ chains, steps, keepEvery, seed });
      const seconds = (performance.now() - start) / 1000;
      // One row per kept step; a single kept state reads better as a square.
      await writeTilesPng(outPath, r.probabilities, r.kept * r.chains, shape, r.kept > 1 ? r.chains : undefined);
      const last = r.samples.subarray((r.kept - 1) * r.chains * model.visible);
      const finalF = await meanFreeEnergy(model, last);
      out.line(
        `${chains} chains × ${steps} sweeps of a ${model.visible}-${model.hidden} RBM in ${fmt(seconds, 3)} s; ` +
          `mean F of the final states ${fmt(finalF)}; wrote ${outPath} (${r.kept} × ${r.chains} tiles)`,
      );
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
        seconds,
        final_mean_free_energy: finalF,
        out: outPath,
        adapter: gpu.adapterName,
      };
      out.result(json);
      return 0;
    } finally {
      model.dispose();
    }
  } finally {
    gpu.close();
  }
}
