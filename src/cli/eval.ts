// `webgpu-rbm eval`: numbers that describe how well a saved model fits data.
// The command is a list of evaluation steps; each adds its own flags, help
// lines, printed lines and JSON fields, so new estimators plug in without
// touching the rest (see EVAL_STEPS below).
import { flag, intOption, parseCommand, positionals, seedOption, stringOption } from './args';
import type { OptionSpec, Values } from './args';
import { loadData, MNIST_TEST_COUNT } from './data-node';
import { CliError } from './errors';
import { loadModel, readModelFile } from './files';
import { openDevice } from './gpu-node';
import { freeEnergyGap, meanFreeEnergy, reconstructionError, thresholded } from './metrics';
import { fmt, Reporter } from './output';
import type { JsonObject } from './output';
import type { RBM } from '../rbm/model';

/** What every step gets: the model and the data, binarized by threshold (> 0.5). */
export interface EvalContext {
  model: RBM;
  metadata: Record<string, string>;
  /** This command's parsed flags, including the ones a step added. */
  values: Values;
  /** The evaluated images, [count, V] in {0, 1}. */
  data: Float32Array;
  count: number;
  /** The test images, when --test was given (or the held-out digits for mnist). */
  test?: Float32Array;
  /** The fields earlier steps produced (e.g. mean_free_energy for a log-likelihood). */
  report: Readonly<JsonObject>;
}

export interface EvalOutput {
  /** Merged into the --json object (snake_case keys). */
  fields: JsonObject;
  /** Printed as human-readable lines. */
  lines: string[];
}

export interface EvalStep {
  /** Flags this step adds to `eval`. */
  options: OptionSpec;
  /** Its lines in `eval --help` (may be empty). */
  help: string;
  /** Reads and checks its flags before any GPU work (throw UsageError); false skips the step. */
  enabled(values: Values): boolean;
  run(ctx: EvalContext): Promise<EvalOutput>;
}

const freeEnergyStep: EvalStep = {
  options: {},
  help: '',
  enabled: () => true,
  async run({ model, data, test }) {
    const meanF = await meanFreeEnergy(model, data);
    const fields: JsonObject = { mean_free_energy: meanF };
    const lines = [`mean free energy      ${fmt(meanF, 6)}`];
    if (test) {
      const testF = await meanFreeEnergy(model, test);
      const gap = await freeEnergyGap(model, data, test);
      Object.assign(fields, { test_mean_free_energy: testF, free_energy_gap: gap });
      lines.push(`test mean free energy ${fmt(testF, 6)}`, `free-energy gap       ${gap >= 0 ? '+' : ''}${fmt(gap, 4)} (test − data, equal counts)`);
    }
    return { fields, lines };
  },
};

const reconstructionStep: EvalStep = {
  options: {},
  help: '',
  enabled: () => true,
  async run({ model, data }) {
    const err = await reconstructionError(model, data);
    return { fields: { recon_error: err }, lines: [`reconstruction error  ${fmt(err)} (mean squared, per pixel)`] };
  },
};

/**
 * The evaluation steps, run in order.
 *
 * ── EXTENSION POINT: exact and AIS log-likelihood ──────────────────────────
 * Add an `exactStep` (--exact: log Z by enumerating the smaller layer, then
 * mean log p(v) = −mean F − log Z, refusing layers too large to enumerate) and
 * an `aisStep` (--ais, with e.g. --ais-runs R --ais-betas B: the AIS estimate
 * of log Z with its spread) to this list. Each declares its flags in `options`,
 * documents them in `help`, checks them in `enabled`, and reads
 * `report.mean_free_energy` from the step above. Nothing else in this file
 * needs to change: flags, help text and the JSON object are assembled from
 * the list.
 */
export const EVAL_STEPS: EvalStep[] = [freeEnergyStep, reconstructionStep];

const stepHelp = EVAL_STEPS.map((s) => s.help).filter((h) => h !== '').join('\n');

export const EVAL_HELP = `Usage: webgpu-rbm eval MODEL.safetensors --data mnist|FILE [options]

Prints the mean free energy of the data, the free-energy gap to a test set, and
the mean-field reconstruction error, all on images thresholded at 0.5.

  --data mnist|FILE        images to evaluate: the bundled digits' training
                           split (8,000, split by --seed as in train) or an IDX
                           images file                                 [mnist]
  --test FILE              IDX test images for the free-energy gap
                           (default for mnist: the ${MNIST_TEST_COUNT} held-out digits)
  --limit N                use only the first N images of --data
  --seed S                 the mnist split's seed (default: the model's seed)
${stepHelp ? stepHelp + '\n' : ''}  --json                   print one JSON object on the last line of stdout
  -h, --help               show this help

Example
  webgpu-rbm eval out/mnist.safetensors --data mnist --json
`;

const OPTIONS: OptionSpec = {
  data: { type: 'string' },
  test: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  ...EVAL_STEPS.reduce<OptionSpec>((all, s) => ({ ...all, ...s.options }), {}),
};

export async function runEval(args: string[]): Promise<number> {
  const parsed = parseCommand('eval', args, OPTIONS);
  const [modelPath] = positionals(parsed, 'eval', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const dataSpec = stringOption(v, 'data') ?? 'mnist';
  const limit = v.limit === undefined ? undefined : intOption(v, 'limit', 0);
  const seedFlag = v.seed === undefined ? undefined : seedOption(v, 0);
  const steps = EVAL_STEPS.filter((s) => s.enabled(v));
  const out = new Reporter(flag(v, 'json'));

  const modelBytes = await readModelFile(modelPath);
  const gpu = await openDevice();
  try {
    const { model, metadata } = loadModel(gpu.device, modelPath, modelBytes);
    try {
      // Same split as training unless told otherwise: the model's seed.
      const fileSeed = Number(metadata.seed);
      const seed = seedFlag ?? (Number.isInteger(fileSeed) && fileSeed >= 0 ? fileSeed : 1);
      const { train, test, source } = await loadData({ data: dataSpec, test: stringOption(v, 'test'), seed, limit });
      const V = train.width * train.height;
      if (V !== model.visible) {
        throw new CliError(
          `the model has ${model.visible} visible units but the --data images are ${train.width}×${train.height} = ${V} pixels; evaluate on data of the size it was trained on`,
        );
      }
      const start = performance.now();
      const report: JsonObject = {
        command: 'eval',
        model: modelPath,
        visible: model.visible,
        hidden: model.hidden,
        data: source,
        count: train.count,
        test_count: test?.count,
      };
      out.line(`${model.visible}-${model.hidden} RBM ${modelPath} on ${train.count} images from ${source}${test ? ` (${test.count} test)` : ''}`);
      const ctx: EvalContext = {
        model,
        metadata,
        values: v,
        data: thresholded(train.pixels),
        count: train.count,
        test: test ? thresholded(test.pixels) : undefined,
        report,
      };
      for (const step of steps) {
        const r = await step.run(ctx);
        Object.assign(report, r.fields);
        for (const line of r.lines) out.line(line);
      }
      report.seconds = (performance.now() - start) / 1000;
      report.adapter = gpu.adapterName;
      out.result(report);
      return 0;
    } finally {
      model.dispose();
    }
  } finally {
    gpu.close();
  }
}
