// `webgpu-rbm eval`: numbers that describe how well a saved model fits data.
// The command is a list of evaluation steps; each adds its own flags, help
// lines, printed lines and JSON fields, so new estimators plug in without
// touching the rest (see EVAL_STEPS below).
import { choiceOption, flag, intOption, numberOption, parseCommand, positionals, seedOption, stringOption } from './args';
import type { OptionSpec, Values } from './args';
import { loadData, MNIST_TEST_COUNT } from './data-node';
import { CliError, UsageError } from './errors';
import {
  aisEstimate, boundsEstimate, CLI_AIS_BETAS, CLI_AIS_BUDGET, CLI_AIS_MAX_BETAS, CLI_AIS_MAX_RUNS, CLI_AIS_RUNS, CLI_AIS_TOLERANCE, enumeratedUnits,
  exactEstimate, logLikelihood, MAX_EXACT_LOGZ_UNITS, readStandardisation, standardiseWith,
} from './loglik';
import type { LogZEstimate } from './loglik';
import { freeEnergyGap, meanFreeEnergy, pseudoLogLikelihood } from '../index';
import { readModelFile } from './files';
import { withModelOnGpu } from './model-session';
import { isPottsModelArgs, runEvalPotts } from './potts-commands';
import { reconstructionError, thresholded } from './metrics';
import { fmt, Reporter } from './output';
import type { JsonObject } from './output';
import type { RBM } from '../index';
import { trajectoryStep } from './eval-trajectory';

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
  /** Prints a line at once (progress of long steps), where the step's own lines go. */
  log?: (line: string) => void;
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

/** The flags that mean nothing without --ais. */
const AIS_ONLY_FLAGS = ['betas', 'runs', 'reverse', 'ais-seed', 'ais-tolerance', 'max-betas', 'max-runs', 'ais-budget', 'reverse-start'];
/** The flags of the two-sided, refined estimate (not of --reverse alone). */
const BOUNDS_FLAGS = ['ais-tolerance', 'max-betas', 'max-runs', 'ais-budget', 'reverse-start'];
const REVERSE_STARTS = ['auto', 'exact', 'tempering', 'data'] as const;

function aisFlagsWithoutAis(v: Values): string | undefined {
  return AIS_ONLY_FLAGS.find((f) => v[f] !== undefined);
}

/** Reads (and checks) every AIS flag. */
function aisFlags(v: Values) {
  return {
    betas: intOption(v, 'betas', CLI_AIS_BETAS, 1, 10_000_000),
    fixed: v.betas !== undefined,
    runs: intOption(v, 'runs', CLI_AIS_RUNS, 1, 100_000),
    seed: intOption(v, 'ais-seed', 1, 0, 0xffffffff),
    tolerance: numberOption(v, 'ais-tolerance', CLI_AIS_TOLERANCE, { min: 0, above: true }),
    maxBetas: intOption(v, 'max-betas', CLI_AIS_MAX_BETAS, 1, 10_000_000),
    maxRuns: v['max-runs'] === undefined ? undefined : intOption(v, 'max-runs', CLI_AIS_MAX_RUNS, 1, 1_000_000),
    budgetSeconds: numberOption(v, 'ais-budget', CLI_AIS_BUDGET, { min: 0, above: true }),
    start: choiceOption(v, 'reverse-start', REVERSE_STARTS, 'auto'),
  };
}

const logLikelihoodStep: EvalStep = {
  options: {
    exact: { type: 'boolean' },
    ais: { type: 'boolean' },
    betas: { type: 'string' },
    runs: { type: 'string' },
    reverse: { type: 'boolean' },
    'ais-seed': { type: 'string' },
    'ais-tolerance': { type: 'string' },
    'max-betas': { type: 'string' },
    'max-runs': { type: 'string' },
    'ais-budget': { type: 'string' },
    'reverse-start': { type: 'string' },
  },
  help: `Log-likelihood (mean log p(v) = −mean F(v) − log Z)
  --exact                  log Z by enumerating the smaller layer (≤ ${MAX_EXACT_LOGZ_UNITS} units;
                           Gaussian models: the hidden layer)
  --ais                    log Z bracketed by annealed importance sampling from
                           both sides: forward AIS from the base rate of the
                           --data images (a stochastic lower bound) and reverse
                           AIS from model samples (an upper bound; exact samples
                           when the smaller layer has ≤ 26 units, else parallel
                           tempering). Each round doubles the schedule (from
                           ${CLI_AIS_BETAS} βs) or, when the band's width is the runs'
                           noise, the runs (new ones pooled with the old), until
                           the band is within --ais-tolerance of the estimate
                           (or the gap stops shrinking: reported, not hidden)
  --ais-tolerance X        nats the band may reach from the estimate      [${CLI_AIS_TOLERANCE}]
  --max-betas N            longest schedule the doubling tries          [${CLI_AIS_MAX_BETAS}]
  --max-runs N             most runs pooled per direction (= --runs: never
                           add runs)                                     [${CLI_AIS_MAX_RUNS}]
  --ais-budget SECONDS     start no doubling that would end past this    [${CLI_AIS_BUDGET}]
  --betas N                a fixed schedule of N βs instead (no doubling;
                           S&M 2008 used 14500)
  --runs R                 parallel AIS runs, each direction              [${CLI_AIS_RUNS}]
  --reverse-start auto|exact|tempering|data
                           reverse AIS's start states                    [auto]
  --reverse                only reverse AIS from the data rows, one-sided (a
                           heuristic check that tends to over-estimate log Z)
  --ais-seed S             seeds the AIS runs                               [1]`,
  enabled(v) {
    const exact = flag(v, 'exact');
    const useAis = flag(v, 'ais');
    if (exact && useAis) throw new UsageError('give --exact or --ais, not both');
    const stray = useAis ? undefined : aisFlagsWithoutAis(v);
    if (stray) throw new UsageError(`--${stray} only applies to --ais; add --ais`);
    if (useAis) {
      const a = aisFlags(v);
      if (a.maxRuns !== undefined && a.maxRuns < a.runs) throw new UsageError(`--max-runs (${a.maxRuns}) must be at least --runs (${a.runs})`);
      const bounds = BOUNDS_FLAGS.find((f) => v[f] !== undefined);
      if (flag(v, 'reverse') && bounds) {
        throw new UsageError(`--${bounds} applies to the two-sided estimate; --reverse runs reverse AIS alone (drop one)`);
      }
      const refining = ['max-betas', 'max-runs', 'ais-budget'].find((f) => v[f] !== undefined);
      if (v.betas !== undefined && refining) {
        throw new UsageError(`--${refining} limits the refinement of the schedule and runs; --betas fixes them (drop one)`);
      }
    }
    return exact || useAis;
  },
  async run({ model, values: v, data, test, report, log }) {
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
    } else if (flag(v, 'reverse')) {
      const a = aisFlags(v);
      z = await aisEstimate(model, data, { betas: a.betas, runs: a.runs, seed: a.seed, reverse: true });
    } else {
      const a = aisFlags(v);
      z = await boundsEstimate(model, data, {
        ...a,
        onRound: (b) =>
          log?.(
            `AIS ${b.betas} βs × ${b.runs}: forward ${fmt(b.logZForward, 7)}, reverse ${fmt(b.logZReverse, 7)}, ` +
              `band ${fmt(b.logZLow, 7)} … ${fmt(b.logZHigh, 7)} (${fmt(b.seconds.forward + b.seconds.reverse, 3)} s)`,
          ),
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
    const bounds = z.bounds;
    const bandName = bounds ? 'band' : '±3σ';
    const band = (lo: number, hi: number): string => (z.method === 'exact' ? '' : ` (${bandName}: ${fmt(lo, 7)} … ${fmt(hi, 7)})`);
    const what =
      z.method === 'exact'
        ? 'exact'
        : bounds
          ? `AIS both ways, ${z.betas} βs × ${z.runs} runs, ${bounds.converged ? 'converged' : 'NOT converged'}, ${fmt(z.seconds, 3)} s`
          : `${z.method === 'ais' ? 'AIS' : 'reverse AIS'}, ${z.betas} βs × ${z.runs} runs, ${fmt(z.seconds, 3)} s`;
    const lines = [`log Z                 ${fmt(z.logZ, 7)}${band(z.logZLow, z.logZHigh)} [${what}]`];
    if (bounds) {
      const a = aisFlags(v);
      Object.assign(fields, {
        log_z_forward: bounds.forward,
        log_z_reverse: bounds.reverse,
        log_z_gap: bounds.gap,
        ess_forward: bounds.essForward,
        ess_reverse: bounds.essReverse,
        ais_converged: bounds.converged,
        ais_stop: bounds.reason,
        ais_tolerance: bounds.tolerance,
        ais_reverse_start: bounds.reverseStart,
        ...(bounds.enumerated !== undefined ? { log_z_enumerated: bounds.enumerated } : {}),
        ais_betas: z.betas,
        ais_runs: z.runs,
        ais_seed: a.seed,
        ais_seconds: z.seconds,
        ais_rounds: bounds.rounds.map((r) => ({ ...r })),
        ais_effective_sample_size: bounds.essForward,
        log_z_base: z.logZBase,
      });
      const from = { exact: 'exact model samples', tempering: 'parallel-tempering samples', data: 'data rows (heuristic)' }[bounds.reverseStart];
      lines.push(
        `  forward AIS         ${fmt(bounds.forward, 7)} (lower bound; ${fmt(bounds.essForward, 4)} effective runs of ${z.runs})`,
        `  reverse AIS         ${fmt(bounds.reverse, 7)} (upper bound from ${from}; ${fmt(bounds.essReverse, 4)} effective runs)`,
        `  gap                 ${fmt(bounds.gap, 4)} nats; tolerance ±${fmt(bounds.tolerance, 3)}`,
      );
      if (bounds.enumerated !== undefined) {
        lines.push(`  enumerated log Z    ${fmt(bounds.enumerated, 7)} (exact: the enumeration that drew the reverse starts; float32 sums)`);
      }
      if (!bounds.converged) {
        const why = {
          'max-betas': `the schedule reached --max-betas (${z.betas} βs)`,
          budget: 'the time budget (--ais-budget) ran out',
          stalled:
            `the gap stopped shrinking as the schedule doubled (to ${z.betas} βs): forward AIS's runs are probably all missing a mode, ` +
            'which more βs will not fix (more --runs may)',
          fixed: `--betas fixed the schedule at ${z.betas} βs`,
          converged: '',
        }[bounds.reason];
        lines.push(
          `warning: AIS did not converge: ${why}; the band (${fmt(z.logZLow, 7)} … ${fmt(z.logZHigh, 7)}) is wider than ±${fmt(bounds.tolerance, 3)} nats. ` +
            'Compare models by their bands, or allow a longer schedule',
        );
      }
    } else if (z.method !== 'exact') {
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
// trajectoryStep: `--trajectory` (src/cli/eval-trajectory.ts), after the log-likelihood step it sits beside.
export const EVAL_STEPS: EvalStep[] = [freeEnergyStep, reconstructionStep, logLikelihoodStep, trajectoryStep, pllStep];

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
  webgpu-rbm eval out/mnist.safetensors --data mnist --ais --json
  webgpu-rbm eval out/mnist.safetensors --data mnist --ais --betas 14500 --runs 100
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
  // A Potts model is evaluated on sequences (FASTA or .npy codes): src/cli/potts-commands.ts.
  if (await isPottsModelArgs(args)) return runEvalPotts(args);
  const parsed = parseCommand('eval', args, OPTIONS);
  const [modelPath] = positionals(parsed, 'eval', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const dataSpec = stringOption(v, 'data') ?? 'mnist';
  const limit = v.limit === undefined ? undefined : intOption(v, 'limit', 0);
  const seedFlag = v.seed === undefined ? undefined : seedOption(v, 0);
  const steps = EVAL_STEPS.filter((s) => s.enabled(v));
  const out = new Reporter(flag(v, 'json'));

  const modelBytes = await readModelFile(modelPath);
  return withModelOnGpu(modelPath, modelBytes, out, async (gpu, { model, metadata, standardisation: stored }) => {
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
      const r = await step.run({ ...ctx, log: (line) => out.line(line) });
      Object.assign(report, r.fields);
      for (const line of r.lines) out.line(line);
    }
    report.seconds = (performance.now() - start) / 1000;
    report.adapter = gpu.adapterName;
    out.result(report);
    return 0;
  });
}
