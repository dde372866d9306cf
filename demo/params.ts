// Settings the page reads from its URL, so a link (or a test) can open it with
// a small model and start training at once: ?hidden=64&batch=20&autostart=1.

export interface DemoParams {
  hidden: number;
  batch: number;
  k: number;
  persistent: boolean;
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
  autostart: boolean;
  /** Pretend navigator.gpu is missing (to see the no-WebGPU page). */
  nogpu: boolean;
}

export const DEFAULTS: DemoParams = {
  hidden: 256,
  batch: 50,
  k: 1,
  persistent: false,
  learningRate: 0.1,
  momentum: 0.5,
  weightDecay: 1e-4,
  chunk: 5,
  seed: 1,
  chains: 32,
  sweeps: 2,
  testSize: 1000,
  autostart: false,
  nogpu: false,
};

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
  return {
    hidden: num(q, 'hidden', DEFAULTS.hidden, 1, 4096),
    batch: num(q, 'batch', DEFAULTS.batch, 1, 1000),
    k: num(q, 'k', DEFAULTS.k, 1, 100),
    persistent: algo === 'pcd' || flag(q, 'pcd', DEFAULTS.persistent),
    learningRate: num(q, 'lr', DEFAULTS.learningRate, 1e-5, 10, false),
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
