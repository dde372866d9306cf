// `webgpu-rbm eval`: numbers that describe how well a saved model fits data.
// The command is a list of evaluation steps; each adds its own flags, help
// lines, printed lines and JSON fields, so new estimators plug in without
// touching the rest (see EVAL_STEPS below).
import { flag, intOption, parseCommand, positionals, seedOption, stringOption } from './args';
import type { OptionSpec, Values } from './args';
import { loadData, MNIST_TEST_COUNT } from './data-node';
import { CliError, UsageError } from './errors';
import {
  aisEstimate, CLI_AIS_BETAS, CLI_AIS_RUNS, enumeratedUnits, exactEstimate, logLikelihood, MAX_EXACT_LOGZ_UNITS,
  readStandardisation, standardiseWith,
} from './loglik';
import type { LogZEstimate } from './loglik';
import { freeEnergyGap, meanFreeEnergy, pseudoLogLikelihood } from '../index';
import { loadModel, readModelFile } from './files';
import { openDevice } from './gpu-node';
import { SignalGuard } from './signals';
import { reconstructionError, thresholded } from './metrics';
import { fmt, Reporter } from './output';
import type { JsonObject } from './output';
import type { RBM } from '../index';

/**
 * What every step gets: the model and the data, binarized by threshold (> 0.5)
 * for a binary model, standardised with the model's stored mean/std for a
 * Gaussian one.
 */
export interface EvalContext {
  model: RBM;
  metadata: Record<string, string>;
  /** This command's parsed flags, including the ones a step added. */
  values: Values;
  /** The evaluated images, [count, V] in {0, 1} (standardised values for a Gaussian model). */
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

/** --betas/--runs/--reverse/--ais-seed mean nothing without --ais. */
function aisFlagsWithoutAis(v: Values): string | undefined {
  return ['betas', 'runs', 'reverse', 'ais-seed'].find((f) => v[f] !== undefined);
}

const logLikelihoodStep: EvalStep = {
  options: {
    exact: { type: 'boolean' },
    ais: { type: 'boolean' },
    betas: { type: 'string' },
    runs: { type: 'string' },
    reverse: { type: 'boolean' },
    'ais-seed': { type: 'string' },
  },
  help: `Log-likelihood (mean log p(v) = −mean F(v) − log Z)
  --exact                  log Z by enumerating the smaller layer (≤ ${MAX_EXACT_LOGZ_UNITS} units;
                           Gaussian models: the hidden layer)
  --ais                    log Z by annealed importance sampling, with its ±3σ
                           band (base rate: the --data images)
  --betas N                AIS intermediate distributions (S&M 2008: 14500) [${CLI_AIS_BETAS}]
  --runs R                 parallel AIS runs                              [${CLI_AIS_RUNS}]
  --reverse                reverse AIS from the data rows (a heuristic check
                           that tends to over-estimate log Z)
  --ais-seed S             seeds the AIS runs                               [1]`,
  enabled(v) {
    const exact = flag(v, 'exact');
    const useAis = flag(v, 'ais');
    if (exact && useAis) throw new UsageError('give --exact or --ais, not both');
    const stray = useAis ? undefined : aisFlagsWithoutAis(v);
    if (stray) throw new UsageError(`--${stray} only applies to --ais; add --ais`);
    if (useAis) {
      intOption(v, 'betas', CLI_AIS_BETAS, 1, 10_000_000);
      intOption(v, 'runs', CLI_AIS_RUNS, 1, 100_000);
      intOption(v, 'ais-seed', 1, 0, 0xffffffff);
    }
    return exact || useAis;
  },
  async run({ model, values: v, data, test, report }) {
    let z: LogZEstimate;
    if (flag(v, 'exact')) {
      const n = enumeratedUnits(model);
      if (n > MAX_EXACT_LOGZ_UNITS) {
        throw new UsageError(
          `--exact enumerates 2^n states of the ${model.visibleType === 'gaussian' ? 'hidden' : 'smaller'} layer, which has ${n} units ` +
            `(at most ${MAX_EXACT_LOGZ_UNITS}); use --ais for this ${model.visible}-${model.hidden} model`,
        );
      }
      z = await exactEstimate(model);
    } else {
      z = await aisEstimate(model, data, {
        betas: intOption(v, 'betas', CLI_AIS_BETAS, 1, 10_000_000),
        runs: intOption(v, 'runs', CLI_AIS_RUNS, 1, 100_000),
        seed: intOption(v, 'ais-seed', 1, 0, 0xffffffff),
        reverse: flag(v, 'reverse'),
      });
    }
    const ll = logLikelihood(report.mean_free_energy as number, z);
    const fields: JsonObject = {
      method: z.method,
      log_z: z.logZ,
      log_z_low: z.logZLow,
      log_z_high: z.logZHigh,
      avg_log_likelihood: ll.value,
      avg_log_likelihood_low: ll.low,
      avg_log_likelihood_high: ll.high,
      log_z_seconds: z.seconds,
    };
    const band = (lo: number, hi: number): string => (z.method === 'exact' ? '' : ` (±3σ: ${fmt(lo, 7)} … ${fmt(hi, 7)})`);
    const what = z.method === 'exact' ? 'exact' : `${z.method === 'ais' ? 'AIS' : 'reverse AIS'}, ${z.betas} βs × ${z.runs} runs, ${fmt(z.seconds, 3)} s`;
    const lines = [`log Z                 ${fmt(z.logZ, 7)}${band(z.logZLow, z.logZHigh)} [${what}]`];
    if (z.method !== 'exact') {
      Object.assign(fields, {
        ais_seconds: z.seconds,
        ais_betas: z.betas,
        ais_runs: z.runs,
        ais_seed: intOption(v, 'ais-seed', 1, 0, 0xffffffff),
        ais_effective_sample_size: z.effectiveSampleSize,
        log_z_base: z.logZBase,
      });
      lines.push(`AIS effective runs    ${fmt(z.effectiveSampleSize ?? NaN, 4)} of ${z.runs}`);
      const ess = z.effectiveSampleSize ?? 0;
      if (ess < 0.1 * (z.runs ?? 0) || !Number.isFinite(z.logZLow)) {
        lines.push(
          `warning: few effective AIS runs (${fmt(ess, 3)} of ${z.runs}): log Z is probably under-estimated (the log-likelihood over-estimated) ` +
            `and the band is unreliable; raise --betas (S&M 2008 used 14500)`,
        );
      }
    }
    lines.push(`avg log-likelihood    ${fmt(ll.value, 7)} nats${band(ll.low, ll.high)}`);
    if (test && typeof report.test_mean_free_energy === 'number') {
      const t = logLikelihood(report.test_mean_free_energy, z);
      Object.assign(fields, { test_avg_log_likelihood: t.value, test_avg_log_likelihood_low: t.low, test_avg_log_likelihood_high: t.high });
      lines.push(`test avg log-lik.     ${fmt(t.value, 7)} nats${band(t.low, t.high)}`);
    }
    return { fields, lines };
  },
};

const pllStep: EvalStep = {
  options: { pll: { type: 'boolean' }, 'pll-all': { type: 'boolean' } },
  help: `  --pll                    pseudo-log-likelihood, scikit-learn's score_samples
                           estimate (one random unit flipped per image)
  --pll-all                with --pll: the exact PLL (every unit flipped; V× slower)`,
  enabled(v) {
    if (flag(v, 'pll-all') && !flag(v, 'pll')) throw new UsageError('--pll-all only applies to --pll; add --pll');
    return flag(v, 'pll');
  },
  async run({ model, data, test, values: v }) {
    if (model.visibleType === 'gaussian') {
      throw new UsageError('--pll flips binary units; this model has Gaussian visible units (use --exact or --ais)');
    }
    const allUnits = flag(v, 'pll-all');
    const variant = allUnits ? 'exact, every unit' : 'one random unit per image, as scikit-learn';
    const p = await pseudoLogLikelihood(model, data, { seed: 1, allUnits });
    const fields: JsonObject = { pseudo_log_likelihood: p.mean, pll_variant: allUnits ? 'all-units' : 'sklearn' };
    const lines = [`pseudo-log-likelihood ${fmt(p.mean, 6)} (${variant})`];
    if (test) {
      const t = await pseudoLogLikelihood(model, test, { seed: 1, allUnits });
      fields.test_pseudo_log_likelihood = t.mean;
      lines.push(`test pseudo-log-lik.  ${fmt(t.mean, 6)}`);
    }
    return { fields, lines };
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
export const EVAL_STEPS: EvalStep[] = [freeEnergyStep, reconstructionStep, logLikelihoodStep, pllStep];

const stepHelp = EVAL_STEPS.map((s) => s.help).filter((h) => h !== '').join('\n');

export const EVAL_HELP = `Usage: webgpu-rbm eval MODEL.safetensors --data mnist|FILE [options]

Prints the mean free energy of the data, the free-energy gap to a test set, and
the mean-field reconstruction error, all on images thresholded at 0.5 (for a
Gaussian model: standardised with the mean and std stored in the model file);
with --exact or --ais also log Z and the average log-likelihood of the data and
the test set, and with --pll the pseudo-log-likelihood.

  --data mnist|FILE        images to evaluate: the bundled digits' training
                           split (8,000, split by --seed as in train) or an IDX
                           images file                                 [mnist]
  --test FILE              IDX test images for the free-energy gap
                           (default for mnist: the ${MNIST_TEST_COUNT} held-out digits)
  --limit N                use only the first N images of --data
  --seed S                 the mnist split's seed (default: the model's seed)
${stepHelp ? stepHelp + '\n' : ''}  --json                   print one JSON object on the last line of stdout
  -h, --help               show this help

Examples
  webgpu-rbm eval out/mnist.safetensors --data mnist --json
  webgpu-rbm eval out/mnist.safetensors --data mnist --ais --betas 1000 --runs 100
  webgpu-rbm eval out/small.safetensors --data mnist --exact --pll
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
  // Evaluation writes nothing: a signal quits at once.
  const guard = new SignalGuard('now', (line) => out.warn(line), () => gpu.close());
  try {
    const { model, metadata, standardisation: stored } = loadModel(gpu.device, modelPath, modelBytes);
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
        visible_type: model.visibleType,
        data: source,
        count: train.count,
        test_count: test?.count,
      };
      out.line(`${model.visible}-${model.hidden} RBM ${modelPath} on ${train.count} images from ${source}${test ? ` (${test.count} test)` : ''}`);
      // A Gaussian model sees its data standardised as in training; a binary one thresholded.
      const prepare =
        model.visibleType === 'gaussian'
          ? ((std) => (p: Float32Array) => standardiseWith(p, std))(stored ?? readStandardisation(metadata, model.visible, modelPath))
          : thresholded;
      const ctx: EvalContext = {
        model,
        metadata,
        values: v,
        data: prepare(train.pixels),
        count: train.count,
        test: test ? prepare(test.pixels) : undefined,
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
    guard.dispose();
    gpu.close();
  }
}
