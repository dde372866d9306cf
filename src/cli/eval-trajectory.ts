// `eval --trajectory A,B,…`: log Z of MODEL by annealing along its saved
// training trajectory (trajectory AIS, src/rbm/trajectory.ts): the files are
// earlier snapshots of the same run in training order (model files or
// checkpoints, e.g. copies of `train --checkpoint` after each epoch), MODEL the
// path's end. One of eval's steps (src/cli/eval.ts EVAL_STEPS); typed by
// structure so this file does not import eval.ts back.
import { choiceOption, intOption, stringOption, type OptionSpec, type Values } from './args';
import { CliError, UsageError } from './errors';
import { readModelFile } from './files';
import { fmt, type JsonObject } from './output';
import {
  checkpointFromSafetensors, isCheckpoint, rbmFromSafetensors, trajectoryAis, TrajectoryRecorder, DEFAULT_TRAJECTORY_STEPS_BETWEEN,
  type RBM, type RBMParamsF32,
} from '../index';

const FLAGS = ['trajectory-steps', 'trajectory-runs', 'trajectory-seed', 'trajectory-allocate'];

interface TrajectorySettings {
  files: string[];
  steps: number;
  runs: number;
  seed: number;
  allocate: 'even' | 'adaptive';
}

function settings(v: Values): TrajectorySettings {
  const list = stringOption(v, 'trajectory') ?? '';
  const files = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (files.length === 0) throw new UsageError('--trajectory takes the earlier snapshots, comma-separated: --trajectory run-0.safetensors,run-1.safetensors');
  return {
    files,
    steps: intOption(v, 'trajectory-steps', DEFAULT_TRAJECTORY_STEPS_BETWEEN),
    runs: intOption(v, 'trajectory-runs', 100),
    seed: intOption(v, 'trajectory-seed', 1, 0, 0xffffffff),
    allocate: choiceOption(v, 'trajectory-allocate', ['even', 'adaptive'] as const, 'adaptive'),
  };
}

/** W, b, c of a model file or a checkpoint, checked against the evaluated model's shape. */
async function snapshotFile(path: string, model: RBM): Promise<RBMParamsF32> {
  let bytes: Uint8Array;
  try {
    bytes = await readModelFile(path);
  } catch (e) {
    throw new CliError(`--trajectory snapshot ${e instanceof Error ? e.message : String(e)}`);
  }
  let params: RBMParamsF32 & { visible: number; hidden: number };
  try {
    const f = rbmFromSafetensors(bytes);
    if (isCheckpoint(f.metadata)) {
      const c = checkpointFromSafetensors(bytes).state;
      params = { ...c.params, visible: c.visible, hidden: c.hidden };
    } else {
      params = f;
    }
  } catch (e) {
    throw new CliError(`--trajectory ${path}: not a model or checkpoint file (${e instanceof Error ? e.message : String(e)})`);
  }
  if (params.visible !== model.visible || params.hidden !== model.hidden) {
    throw new CliError(
      `--trajectory ${path} is a ${params.visible}-${params.hidden} model, MODEL is ${model.visible}-${model.hidden}: give snapshots of the same training run`,
    );
  }
  return { W: params.W, b: params.b, c: params.c };
}

export const trajectoryStep = {
  options: {
    trajectory: { type: 'string' },
    'trajectory-steps': { type: 'string' },
    'trajectory-runs': { type: 'string' },
    'trajectory-seed': { type: 'string' },
    'trajectory-allocate': { type: 'string' },
  } satisfies OptionSpec,
  help: `  --trajectory A,B,…       log Z by annealing along the training trajectory
                           (Béreux et al. 2024): earlier snapshots of MODEL's
                           run (model or checkpoint files), oldest first; the
                           path runs base rate → A → B → … → MODEL. Forward
                           only: a lower-side estimate with its ±3σ band
  --trajectory-steps S     steps between neighbouring snapshots            [${DEFAULT_TRAJECTORY_STEPS_BETWEEN}]
  --trajectory-runs R      parallel runs                                   [100]
  --trajectory-allocate even|adaptive
                           share the steps out by a pilot run       [adaptive]
  --trajectory-seed S      seeds the runs                                    [1]`,
  enabled(v: Values): boolean {
    const stray = FLAGS.find((f) => v[f] !== undefined);
    if (v.trajectory === undefined) {
      if (stray) throw new UsageError(`--${stray} only applies to --trajectory; add --trajectory A,B,…`);
      return false;
    }
    settings(v);
    return true;
  },
  async run(ctx: {
    model: RBM; values: Values; data: Float32Array; report: Readonly<JsonObject>; test?: Float32Array;
  }): Promise<{ fields: JsonObject; lines: string[] }> {
    const { model, values: v, data, report } = ctx;
    const s = settings(v);
    if (model.visibleType !== 'bernoulli' && model.visibleType !== 'gaussian') {
      throw new UsageError(`--trajectory takes Bernoulli or Gaussian visible units; this model's are ${model.visibleType} (use --ais)`);
    }
    const rec = new TrajectoryRecorder(model, { data });
    for (const path of s.files) rec.add(await snapshotFile(path, model));
    await rec.record(model);
    const z = await trajectoryAis(model.device, rec.trajectory, { runs: s.runs, stepsBetween: s.steps, seed: s.seed, allocate: s.allocate });
    const meanF = report.mean_free_energy as number;
    const ll = (f: number): { value: number; low: number; high: number } => ({ value: -f - z.logZ, low: -f - z.logZHigh, high: -f - z.logZLow });
    const train = ll(meanF);
    const fields: JsonObject = {
      trajectory_log_z: z.logZ,
      trajectory_log_z_low: z.logZLow,
      trajectory_log_z_high: z.logZHigh,
      trajectory_ess: z.effectiveSampleSize,
      trajectory_snapshots: z.snapshots,
      trajectory_steps: z.steps,
      trajectory_steps_per_segment: z.stepsPerSegment,
      trajectory_runs: z.runs,
      trajectory_seed: s.seed,
      trajectory_seconds: z.seconds + z.pilotSeconds,
      trajectory_log_z_per_snapshot: z.perSnapshot.map((e) => e.logZ),
      trajectory_avg_log_likelihood: train.value,
      trajectory_avg_log_likelihood_low: train.low,
      trajectory_avg_log_likelihood_high: train.high,
    };
    const lines = [
      `log Z (trajectory)    ${fmt(z.logZ, 7)} (±3σ: ${fmt(z.logZLow, 7)} … ${fmt(z.logZHigh, 7)}) ` +
        `[trajectory AIS, ${z.snapshots} snapshots, ${z.steps} steps × ${z.runs} runs, ${fmt(z.seconds + z.pilotSeconds, 3)} s]`,
      `  effective runs      ${fmt(z.effectiveSampleSize, 4)} of ${z.runs}`,
      `avg log-lik. (traj.)  ${fmt(train.value, 7)} nats (±3σ: ${fmt(train.low, 7)} … ${fmt(train.high, 7)})`,
    ];
    if (z.effectiveSampleSize < 0.1 * z.runs || !Number.isFinite(z.logZLow)) {
      lines.push(
        `warning: few effective trajectory runs (${fmt(z.effectiveSampleSize, 3)} of ${z.runs}): log Z is probably under-estimated; ` +
          'give more snapshots (finer in training time) or raise --trajectory-steps',
      );
    }
    if (ctx.test && typeof report.test_mean_free_energy === 'number') {
      const t = ll(report.test_mean_free_energy);
      Object.assign(fields, { trajectory_test_avg_log_likelihood: t.value });
      lines.push(`test avg l.-l. (traj.) ${fmt(t.value, 7)} nats`);
    }
    return { fields, lines };
  },
};
