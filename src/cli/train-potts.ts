// `webgpu-rbm train --visible potts --states q --data seqs.fasta|codes.npy …`:
// a Potts–Bernoulli RBM on categorical sequences (src/units/potts.ts), its
// data read here (src/cli/potts-data.ts): aligned FASTA (protein alphabet of
// 20 amino acids + gap, q = 21, or --alphabet) or a 2-D .npy of integer codes
// 0..q−1, one column per site, expanded to one-hot rows. Trains with CD-k /
// PCD-k (fit), reports the exact log-likelihood when the hidden layer can be
// enumerated, and writes the model in the zero-sum gauge (the peers' gauge;
// --gauge none keeps the trained parameters as they are) with metadata
// "visible": "potts", "visible_states": q and the alphabet.
import {
  DivergenceError, exactLogZ, MODEL_FILE_FORMAT, MODEL_KEYS, RBM, rbmToSafetensors, zeroSumGauge,
} from '../index';
import { averageLogLikelihood } from '../index';
import { choiceOption, flag, intOption, numberOption, parseCommand, positionals, requiredString, seedOption, stringOption } from './args';
import type { OptionSpec } from './args';
import { writeFileAtomic } from './atomic-write';
import { CliError, UsageError } from './errors';
import { openDevice } from './gpu-node';
import { fmt, formatCount, Reporter } from './output';
import { readPottsData } from './potts-data';

/** Most hidden units for which train reports the exact log-likelihood (2^H hidden states). */
export const POTTS_EXACT_HIDDEN = 20;

export const POTTS_DEFAULTS = { hidden: 16, epochs: 20, batch: 50, k: 1, lr: 0.02, momentum: 0.5, weightDecay: 1e-4, seed: 1 } as const;

/** Metadata key of the alphabet a FASTA-trained model reads and writes its sequences in. */
export const ALPHABET_KEY = 'alphabet';

const OPTIONS = {
  visible: { type: 'string' },
  states: { type: 'string' },
  alphabet: { type: 'string' },
  data: { type: 'string' },
  test: { type: 'string' },
  hidden: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  k: { type: 'string' },
  pcd: { type: 'boolean' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  seed: { type: 'string' },
  gauge: { type: 'string' },
  out: { type: 'string' },
} as const satisfies OptionSpec;

export const POTTS_TRAIN_HELP = `webgpu-rbm train --visible potts --data FILE --out MODEL [options]

Trains a Potts–Bernoulli RBM on categorical sequences: each of L sites takes
one of q states (one-hot, q visible units per site), p(state | h) = softmax.

  --visible potts          Potts (categorical) visible units
  --data FILE              aligned FASTA (.fasta, .fa, .faa, .aln, .a2m: one length for all)
                           or a 2-D .npy of integer codes 0..q−1 (rows × sites)
  --states Q               states per site (required for .npy; FASTA: the alphabet's size)
  --alphabet STR           FASTA states in code order [${'-ACDEFGHIKLMNPQRSTVWY'}: gap + 20 amino acids]
  --test FILE              held-out sequences, same format
  --hidden N               hidden units                   [${POTTS_DEFAULTS.hidden}]
  --epochs N               [${POTTS_DEFAULTS.epochs}]    --batch N [${POTTS_DEFAULTS.batch}]    --k N [${POTTS_DEFAULTS.k}]    --pcd
  --lr X                   [${POTTS_DEFAULTS.lr}]  --momentum X [${POTTS_DEFAULTS.momentum}]  --weight-decay X [${POTTS_DEFAULTS.weightDecay}]
  --seed N                 [${POTTS_DEFAULTS.seed}]
  --gauge zerosum|none     save in the zero-sum gauge (each site's b and W sum to 0 over states) [zerosum]
  --out FILE               model file (safetensors)
  --json                   one JSON object on the last line of stdout
`;

/** Whether `train`'s arguments ask for a Potts layer (--visible potts). */
export function wantsPotts(args: readonly string[]): boolean {
  return args.some((a, i) => a === '--visible=potts' || (a === '--visible' && args[i + 1] === 'potts'));
}

export async function runTrainPotts(args: string[]): Promise<number> {
  const parsed = parseCommand('train', args, OPTIONS);
  positionals(parsed, 'train', []);
  const v = parsed.values;
  if (stringOption(v, 'visible') !== 'potts') throw new UsageError('--visible potts is required here');
  const dataPath = requiredString(v, 'train', 'data', 'the training sequences (FASTA or a .npy of codes)');
  const outPath = requiredString(v, 'train', 'out', 'the model file to write');
  const states = v.states !== undefined ? intOption(v, 'states', 2, 2, 256) : undefined;
  const alphabet = stringOption(v, 'alphabet');
  const hidden = intOption(v, 'hidden', POTTS_DEFAULTS.hidden);
  const epochs = intOption(v, 'epochs', POTTS_DEFAULTS.epochs);
  const batch = intOption(v, 'batch', POTTS_DEFAULTS.batch);
  const k = intOption(v, 'k', POTTS_DEFAULTS.k);
  const pcd = flag(v, 'pcd');
  const lr = numberOption(v, 'lr', POTTS_DEFAULTS.lr, { min: 0, above: true });
  const momentum = numberOption(v, 'momentum', POTTS_DEFAULTS.momentum, { min: 0 });
  if (momentum >= 1) throw new UsageError(`--momentum must be below 1, got ${momentum}`);
  const weightDecay = numberOption(v, 'weight-decay', POTTS_DEFAULTS.weightDecay, { min: 0 });
  const seed = seedOption(v, POTTS_DEFAULTS.seed);
  const gauge = choiceOption(v, 'gauge', ['zerosum', 'none'] as const, 'zerosum');
  const out = new Reporter(flag(v, 'json'));

  const train = await readPottsData(dataPath, '--data', { states, alphabet });
  const test = v.test !== undefined ? await readPottsData(stringOption(v, 'test')!, '--test', { states: train.states, alphabet: train.alphabet }) : undefined;
  if (test && test.sites !== train.sites) {
    throw new CliError(`--test has ${test.sites} sites per sequence, --data ${train.sites}; give held-out sequences of the same alignment`);
  }
  if (train.rows < batch) throw new UsageError(`--batch ${batch} is larger than the ${train.rows} training sequences; lower --batch`);
  const q = train.states;
  const V = train.sites * q;

  const gpu = await openDevice();
  let model: RBM | undefined;
  try {
    out.line(
      `training a Potts RBM: ${train.sites} sites × ${q} states (${V} visible) – ${hidden} hidden on ${formatCount(train.rows)} sequences from ${dataPath}` +
        `${test ? ` (${formatCount(test.rows)} held out)` : ''}, ${pcd ? 'PCD' : 'CD'}-${k}, lr ${lr}, batch ${batch}, on ${gpu.adapterName}`,
    );
    const freq = new Float64Array(V);
    for (let e = 0; e < train.oneHot.length; e++) freq[e % V] += train.oneHot[e] / train.rows;
    model = RBM.create(gpu.device, { visible: V, hidden, seed, visibleType: 'potts', visibleStates: q, visibleMarginals: freq });
    const start = performance.now();
    let result;
    try {
      result = await model.fit(train.oneHot, {
        // Every setting spelled out (fit's defaults differ by unit type): PCD's chains = the batch, plain gradients.
        epochs, batchSize: batch, k, persistent: pcd, chains: batch, centered: false, learningRate: lr, momentum, weightDecay, binarize: 'none', seed,
        onEpoch: (e) => out.line(`epoch ${e.epoch + 1}/${epochs}  recon error ${fmt(e.reconError, 5)}`),
      });
    } catch (e) {
      if (e instanceof DivergenceError) throw new CliError(`training diverged in epoch ${e.epoch + 1}: lower --lr (it was ${lr}). ${outPath} was not written`);
      throw e;
    }
    const seconds = (performance.now() - start) / 1000;

    let logZ: number | undefined;
    let llTrain: number | undefined;
    let llTest: number | undefined;
    if (hidden <= POTTS_EXACT_HIDDEN) {
      logZ = await exactLogZ(model);
      llTrain = await averageLogLikelihood(model, train.oneHot, logZ);
      if (test) llTest = await averageLogLikelihood(model, test.oneHot, logZ);
      out.line(`exact log-likelihood per sequence: train ${fmt(llTrain, 6)}${llTest !== undefined ? `, test ${fmt(llTest, 6)}` : ''} (log Z ${fmt(logZ, 8)})`);
    }

    const p = await model.readParams();
    const saved = gauge === 'zerosum' ? zeroSumGauge(p, V, hidden, q) : { ...p, logZShift: 0 };
    const metadata: Record<string, string> = {
      [MODEL_KEYS.format]: MODEL_FILE_FORMAT,
      [MODEL_KEYS.visibleUnits]: String(V),
      [MODEL_KEYS.hiddenUnits]: String(hidden),
      [MODEL_KEYS.seed]: String(seed),
      sites: String(train.sites),
      gauge,
      data: dataPath,
      epochs: String(epochs),
      ...(train.alphabet !== undefined ? { [ALPHABET_KEY]: train.alphabet } : {}),
    };
    await writeFileAtomic(
      outPath,
      rbmToSafetensors({ visible: V, hidden, W: saved.W, b: saved.b, c: saved.c, metadata, visibleType: 'potts', visibleStates: q }),
      `--out ${outPath}`,
    );
    out.line(`wrote ${outPath}`);
    out.result({
      command: 'train', visible: 'potts', states: q, sites: train.sites, hidden, rows: train.rows, epochs, seconds,
      recon_error: result.epochs.at(-1)?.reconError, gauge, out: outPath,
      ...(logZ !== undefined ? { log_z: logZ - saved.logZShift, log_likelihood_train: llTrain, log_likelihood_test: llTest } : {}),
      ...(train.alphabet !== undefined ? { alphabet: train.alphabet } : {}),
    });
    return 0;
  } finally {
    model?.dispose();
    gpu.close();
  }
}
