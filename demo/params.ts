// Settings the page reads from its URL, so a link (or a test) can open it with
// a small model: ?hidden=64&batch=20. Training starts on load; ?autostart=0 waits for a click.

export interface DemoParams {
  hidden: number;
  batch: number;
  k: number;
  persistent: boolean;
  /** Negative phase: CD-k, persistent CD-k, or parallel tempering (?algo=cd|pcd|pt). */
  algorithm: 'CD' | 'PCD' | 'PT';
  /** Temperatures of parallel tempering (?replicas=). */
  replicas: number;
  /** The coldest-but-one end of the PT ladder: β runs evenly from 1 down to this (?betamin=). */
  betaMin: number;
  /** Visible units (?visible=binary|gaussian). Gaussian trains on standardised pixels. */
  visible: 'bernoulli' | 'gaussian';
  /** Training rows kept (0 = all; ?train=): short epochs for quick looks and tests. */
  trainRows: number;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  /** Updates per command buffer: small, so the page repaints between chunks. */
  chunk: number;
  seed: number;
  /** Fantasy particles shown. */
  chains: number;
  /** Gibbs sweeps per animation frame for the fantasy particles. */
  sweeps: number;
  /** Test digits held out of training (reconstruction error, free-energy gap). */
  testSize: number;
  /** Start training on load (default; ?autostart=0 waits for the Start button). */
  autostart: boolean;
  /** Pretend navigator.gpu is missing (to see the no-WebGPU page). */
  nogpu: boolean;
}

export const DEFAULTS: DemoParams = {
  hidden: 256,
  batch: 50,
  k: 1,
  persistent: false,
  algorithm: 'CD',
  replicas: 10,
  // β down to 0 leaves the hottest pairs swapping almost never (~0 %) once the
  // biases hold the pixel marginals; 0.5 keeps every pair of 10 around 0.3–0.7.
  betaMin: 0.5,
  visible: 'bernoulli',
  trainRows: 0,
  learningRate: 0.1,
  momentum: 0.5,
  weightDecay: 1e-4,
  chunk: 5,
  seed: 1,
  chains: 32,
  sweeps: 2,
  testSize: 1000,
  autostart: true,
  nogpu: false,
};

/** Default learning rate with Gaussian visible units (standardised pixels need small steps). */
export const GAUSSIAN_LEARNING_RATE = 0.002;

function num(q: URLSearchParams, name: string, fallback: number, min: number, max: number, int = true): number {
  const raw = q.get(name);
  if (raw === null || raw.trim() === '') return fallback;
  const x = Number(raw);
  if (!Number.isFinite(x)) return fallback;
  const v = Math.min(max, Math.max(min, x));
  return int ? Math.round(v) : v;
}

function flag(q: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = q.get(name);
  if (raw === null) return fallback;
  return raw === '' || raw === '1' || raw === 'true' || raw === 'yes';
}

export function readParams(search: string = location.search): DemoParams {
  const q = new URLSearchParams(search);
  const algo = (q.get('algo') ?? '').toLowerCase();
  const persistent = algo === 'pcd' || flag(q, 'pcd', DEFAULTS.persistent);
  const algorithm = algo === 'pt' ? 'PT' : persistent ? 'PCD' : 'CD';
  const vis = (q.get('visible') ?? '').toLowerCase();
  const visible = vis === 'gaussian' || vis === 'gauss' || vis === 'real' ? 'gaussian' : 'bernoulli';
  const lrDefault = visible === 'gaussian' ? GAUSSIAN_LEARNING_RATE : DEFAULTS.learningRate;
  return {
    hidden: num(q, 'hidden', DEFAULTS.hidden, 1, 4096),
    batch: num(q, 'batch', DEFAULTS.batch, 1, 1000),
    k: num(q, 'k', DEFAULTS.k, 1, 100),
    persistent: algorithm === 'PCD',
    algorithm,
    replicas: num(q, 'replicas', DEFAULTS.replicas, 2, 64),
    betaMin: num(q, 'betamin', DEFAULTS.betaMin, 0, 0.99, false),
    visible,
    trainRows: num(q, 'train', DEFAULTS.trainRows, 0, 1_000_000),
    learningRate: num(q, 'lr', lrDefault, 1e-5, 10, false),
    momentum: num(q, 'momentum', DEFAULTS.momentum, 0, 0.99, false),
    weightDecay: num(q, 'decay', DEFAULTS.weightDecay, 0, 1, false),
    chunk: num(q, 'chunk', DEFAULTS.chunk, 1, 256),
    seed: num(q, 'seed', DEFAULTS.seed, 0, 0xffffffff),
    chains: num(q, 'chains', DEFAULTS.chains, 1, 256),
    sweeps: num(q, 'sweeps', DEFAULTS.sweeps, 1, 100),
    testSize: num(q, 'test', DEFAULTS.testSize, 16, 10000),
    autostart: flag(q, 'autostart', DEFAULTS.autostart),
    nogpu: flag(q, 'nogpu', DEFAULTS.nogpu),
  };
}
