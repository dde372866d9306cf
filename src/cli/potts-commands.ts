// `sample` and `eval` for a Potts model (metadata "visible": "potts"), which
// sample.ts and eval.ts hand over here: a Potts model's states are sequences,
// not images, so samples are written as FASTA (the model's alphabet) or a .npy
// of integer codes, never a PNG; eval reports free energies, exact log Z (or
// AIS) and log-likelihoods of FASTA / .npy-code sequences.
import { open } from 'node:fs/promises';
import {
  ais, codesFromOneHot, exactLogZ, formatFasta, meanFreeEnergy, npyBytes, PROTEIN_ALPHABET, type RBM,
} from '../index';
import { flag, intOption, parseCommand, positionals, requiredString, seedOption, stringOption } from './args';
import type { OptionSpec } from './args';
import { writeFileAtomic } from './atomic-write';
import { CliError, UsageError } from './errors';
import { readModelFile } from './files';
import { withModelOnGpu } from './model-session';
import { fmt, formatCount, Reporter } from './output';
import { readPottsData } from './potts-data';

/** The alphabet key train --visible potts writes (src/cli/train-potts.ts). */
const ALPHABET_KEY = 'alphabet';
/** Most hidden units exact log Z enumerates here (2^26 states: minutes on a CPU device). */
const MAX_EXACT_HIDDEN = 26;

/**
 * Whether the first positional argument ending in .safetensors is a Potts model
 * (its metadata "visible" is "potts"); reads only the file's header. Anything
 * unreadable says no, and the command's own reading reports it.
 */
export async function isPottsModelArgs(args: readonly string[]): Promise<boolean> {
  const path = args.find((a) => !a.startsWith('-') && a.toLowerCase().endsWith('.safetensors'));
  if (!path) return false;
  try {
    const fh = await open(path, 'r');
    try {
      const head = new Uint8Array(8);
      if ((await fh.read(head, 0, 8, 0)).bytesRead < 8) return false;
      const n = Number(new DataView(head.buffer).getBigUint64(0, true));
      if (!(n > 0 && n < 2 ** 24)) return false;
      const text = new Uint8Array(n);
      if ((await fh.read(text, 0, n, 8)).bytesRead < n) return false;
      const header = JSON.parse(new TextDecoder().decode(text)) as { __metadata__?: Record<string, string> };
      return header.__metadata__?.visible === 'potts';
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

const SAMPLE_OPTIONS = {
  chains: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
} as const satisfies OptionSpec;

export const POTTS_SAMPLE_HELP = `webgpu-rbm sample POTTS_MODEL.safetensors --out samples.fasta|codes.npy [options]

A Potts model's Gibbs chains from uniformly random states: the last state of
each chain, as FASTA in the model's alphabet (metadata "alphabet"; the protein
alphabet when the model has q = 21 and none) or a .npy of integer codes [chains, sites].
  --chains N  [100]   --steps M  [1000]   --seed S   --json
`;

export async function runSamplePotts(args: string[]): Promise<number> {
  const parsed = parseCommand('sample', args, SAMPLE_OPTIONS);
  const [modelPath] = positionals(parsed, 'sample', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const chains = intOption(v, 'chains', 100, 1, 1_000_000);
  const steps = intOption(v, 'steps', 1000, 1, 10_000_000);
  const seed = v.seed === undefined ? undefined : seedOption(v, 0);
  const outPath = requiredString(v, 'sample', 'out', 'FILE (samples.fasta or codes.npy)');
  const fasta = /\.(fasta|fa|faa|fas|aln|afa)$/i.test(outPath);
  if (!fasta && !/\.npy$/i.test(outPath)) {
    throw new UsageError(`--out ${outPath}: a Potts model's samples are sequences; write FASTA (.fasta) or integer codes (.npy), not a PNG`);
  }
  const out = new Reporter(flag(v, 'json'));
  const bytes = await readModelFile(modelPath);
  return withModelOnGpu(modelPath, bytes, out, async (gpu, { model, metadata }) => {
    const q = model.visibleStates!;
    const sites = model.visible / q;
    const alphabet = metadata[ALPHABET_KEY] ?? (q === PROTEIN_ALPHABET.length ? PROTEIN_ALPHABET : undefined);
    if (fasta && (alphabet === undefined || [...alphabet].length !== q)) {
      throw new CliError(`${modelPath} has ${q} states per site and no alphabet of ${q} letters in its metadata; write the samples as .npy codes`);
    }
    out.line(`sampling ${chains} chains × ${steps} sweeps of a Potts RBM (${sites} sites × ${q} states, ${model.hidden} hidden) on ${gpu.adapterName}`);
    const start = performance.now();
    const r = await model.sample({ chains, steps, ...(seed !== undefined ? { seed } : {}) });
    const codes = codesFromOneHot(r.samples, model.visible, q);
    const file = fasta ? new TextEncoder().encode(formatFasta(codes, sites, alphabet)) : npyBytes(codes, [chains, sites]);
    await writeFileAtomic(outPath, file, `--out ${outPath}`);
    const seconds = (performance.now() - start) / 1000;
    out.line(`wrote ${formatCount(chains)} sequences to ${outPath}`);
    out.result({ command: 'sample', visible: 'potts', states: q, sites, chains, steps, seconds, out: outPath });
    return 0;
  });
}

const EVAL_OPTIONS = {
  data: { type: 'string' },
  alphabet: { type: 'string' },
  ais: { type: 'boolean' },
  'ais-betas': { type: 'string' },
  'ais-runs': { type: 'string' },
  seed: { type: 'string' },
} as const satisfies OptionSpec;

export const POTTS_EVAL_HELP = `webgpu-rbm eval POTTS_MODEL.safetensors --data seqs.fasta|codes.npy [options]

Mean free energy and log-likelihood per sequence of a Potts model: exact log Z
(the hidden layer enumerated, ≤ ${MAX_EXACT_HIDDEN} hidden units) or --ais
(base model: independent sites at the data's smoothed state frequencies).
  --ais  --ais-betas K [10000]  --ais-runs R [100]  --seed S  --alphabet STR  --json
`;

async function logZOf(model: RBM, data: Float32Array, useAis: boolean, betas: number, runs: number, seed: number): Promise<{ value: number; low?: number; high?: number; method: string }> {
  if (!useAis) {
    if (model.hidden > MAX_EXACT_HIDDEN) {
      throw new UsageError(`exact log Z enumerates 2^${model.hidden} hidden states, more than 2^${MAX_EXACT_HIDDEN}; add --ais`);
    }
    return { value: await exactLogZ(model), method: 'exact' };
  }
  const r = await ais(model, { data, betas, runs, seed });
  return { value: r.logZ, low: r.logZLow, high: r.logZHigh, method: 'ais' };
}

export async function runEvalPotts(args: string[]): Promise<number> {
  const parsed = parseCommand('eval', args, EVAL_OPTIONS);
  const [modelPath] = positionals(parsed, 'eval', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const dataPath = requiredString(v, 'eval', 'data', 'the sequences to evaluate (FASTA or a .npy of codes)');
  const useAis = flag(v, 'ais');
  const betas = intOption(v, 'ais-betas', 10_000);
  const runs = intOption(v, 'ais-runs', 100);
  const seed = seedOption(v, 1);
  const out = new Reporter(flag(v, 'json'));
  const bytes = await readModelFile(modelPath);
  return withModelOnGpu(modelPath, bytes, out, async (gpu, { model, metadata }) => {
    const q = model.visibleStates!;
    const alphabet = stringOption(v, 'alphabet') ?? metadata[ALPHABET_KEY];
    const data = await readPottsData(dataPath, '--data', { states: q, ...(alphabet !== undefined && /\.(fasta|fa|faa|fas|aln|a2m|afa)$/i.test(dataPath) ? { alphabet } : {}) });
    if (data.sites * q !== model.visible) {
      throw new CliError(`--data ${dataPath} has ${data.sites} sites of ${q} states, the model ${model.visible / q} sites; evaluate sequences of the model's alignment`);
    }
    out.line(`evaluating a Potts RBM (${data.sites} sites × ${q} states, ${model.hidden} hidden) on ${formatCount(data.rows)} sequences on ${gpu.adapterName}`);
    const start = performance.now();
    const F = await meanFreeEnergy(model, data.oneHot);
    const z = await logZOf(model, data.oneHot, useAis, betas, runs, seed);
    const ll = -F - z.value;
    const seconds = (performance.now() - start) / 1000;
    out.line(`mean free energy ${fmt(F, 6)}, log Z ${fmt(z.value, 8)} (${z.method}), log-likelihood per sequence ${fmt(ll, 6)}` +
      (z.low !== undefined && z.high !== undefined ? ` [${fmt(-F - z.high, 6)}, ${fmt(-F - z.low, 6)}]` : ''));
    out.result({
      command: 'eval', visible: 'potts', states: q, sites: data.sites, rows: data.rows, free_energy: F, log_z: z.value, log_z_method: z.method,
      log_likelihood: ll, ...(z.low !== undefined ? { log_likelihood_low: -F - (z.high ?? z.value), log_likelihood_high: -F - z.low } : {}), seconds,
    });
    return 0;
  });
}
