// The benchmark itself, shared by the Chromium page (main.ts) and Node (node.ts):
// one CD-k update timed three ways on the same machine, in the same run —
//   ours: this engine's WebGPU kernels (GPU-resident data set, no readback);
//   tfjs: the same CD-k math in @tensorflow/tfjs-core on tfjs-backend-webgpu;
//   cpu:  the float64 TypeScript reference (test/reference/reference.ts).
import * as tf from '@tensorflow/tfjs-core';
import { acquireDevice, RBM, type RBMParamsF32 } from '../src/index';
import { GpuDataset } from '../src/rbm/dataset';
import { CpuRBM } from '../test/reference/reference';
import { gemmPhases, type GemmPhase } from './gemm';
import { median, prng, timeMs } from './stats';
import { cdkFlops, type BenchConfig } from './flops';
import { placementConfigs, runPlacement, type PlacementResult } from './placement';

export { cdkFlops, type BenchConfig } from './flops';

export interface BenchOptions {
  /** Aim for timed repeats of about this many seconds each. */
  targetRepeatS: number;
  /** Repeats whose median is reported (when one repeat fits in ~1.5 × targetRepeatS). */
  repeats: number;
  /** Skip an implementation at a size where one update is predicted to take longer. */
  maxUpdateS: number;
  /** At most this many updates per timed repeat. */
  maxUpdatesPerRepeat: number;
  /** Also time the GEMM phases alone (plain vs subgroup tiles), once per size (at k = 1). */
  gemmPhases: boolean;
}

export const IMPLS = ['ours', 'tfjs', 'cpu'] as const;
export type ImplName = (typeof IMPLS)[number];

export interface Measurement {
  status: 'ok';
  msPerUpdate: number;
  samplesPerS: number;
  gflops: number;
  updatesPerRepeat: number;
  /** Every repeat's time per update (ms); msPerUpdate is their median. */
  repeatMsPerUpdate: number[];
  /** The first, untimed update (includes pipeline compilation); absent when skipped. */
  warmupMs?: number;
}

export interface Skipped {
  status: 'skipped' | 'failed';
  reason: string;
}

export interface ConfigResult {
  config: BenchConfig;
  flopsPerUpdate: number;
  results: Record<ImplName, Measurement | Skipped>;
  /** ours samples/s ÷ theirs: above 1 means ours is faster. */
  oursOverTfjs: number | null;
  oursOverCpu: number | null;
  /** Each GEMM kernel alone at this shape (bench/gemm.ts); k = 1 configurations only. */
  gemm?: GemmPhase[] | Skipped;
}

/** GFLOP/s last measured per implementation, used to predict the cost of the next size. */
export type Rates = Partial<Record<ImplName, number>>;

const K_VALUES = [1, 10];
const SIZES: Array<[number, number, number]> = [
  [784, 500, 100],
  [784, 500, 1000],
  [784, 2000, 100],
  [4096, 4096, 256],
];


/** All configurations, cheapest first (so each size's cost can be predicted from the last). */
export function benchConfigs(quick: boolean): BenchConfig[] {
  const all = SIZES.flatMap(([visible, hidden, batch]) =>
    K_VALUES.map((k) => ({ name: `${visible}x${hidden} B=${batch} k=${k}`, visible, hidden, batch, k })),
  );
  const chosen = quick ? all.filter((c) => c.visible === 784 && c.hidden === 500 && c.batch === 100) : all;
  return chosen.sort((a, b) => cdkFlops(a) - cdkFlops(b));
}

export const DEFAULT_OPTIONS: BenchOptions = {
  targetRepeatS: 3,
  repeats: 3,
  maxUpdateS: 90,
  maxUpdatesPerRepeat: 50,
  gemmPhases: true,
};

/** What timing the GEMM phases alone costs, in CD-1 updates of the same size. */
const GEMM_PHASE_UPDATES = 10;
const LEARNING_RATE = 0.05;
const MOMENTUM = 0.5;
const SEED = 7;


/** `rows` binary rows of length V, about a fifth of the pixels on (MNIST-like density). */
function binaryRows(rows: number, V: number, seed: number): Float32Array {
  const next = prng(seed);
  const out = new Float32Array(rows * V);
  for (let e = 0; e < out.length; e++) out[e] = next() < 0.2 ? 1 : 0;
  return out;
}

function initialParams(V: number, H: number): RBMParamsF32 {
  const next = prng(SEED);
  const W = new Float32Array(V * H);
  for (let e = 0; e < W.length; e++) W[e] = 0.02 * (next() - 0.5);
  return { W, b: new Float32Array(V).fill(-1.4), c: new Float32Array(H) };
}

/** One implementation prepared at one size: `run(n)` performs n updates and resolves once they are done. */
interface Impl {
  run(n: number): Promise<void>;
  dispose(): void;
}

async function oursImpl(device: GPUDevice, c: BenchConfig, params: RBMParamsF32): Promise<Impl> {
  const { visible: V, hidden: H, batch: B, k } = c;
  const model = RBM.create(device, { visible: V, hidden: H, seed: SEED, params });
  const trainer = await model.createTrainer({ batchSize: B, k, persistent: false, metrics: false });
  trainer.setHyperparameters({ learningRate: LEARNING_RATE, momentum: MOMENTUM });
  let dataset: GpuDataset | undefined;
  return {
    async run(n) {
      // The data set lives on the GPU; an epoch of n batches gathers from it without any upload.
      if (!dataset || dataset.count < n * B) {
        dataset?.dispose();
        dataset = GpuDataset.upload(device, binaryRows(n * B, V, n), V);
        trainer.bindDataset(dataset, { binarize: 'none' });
      }
      trainer.startEpoch(0, Uint32Array.from({ length: dataset.count }, (_, i) => i));
      const encoder = device.createCommandEncoder({ label: 'bench updates' });
      trainer.encodeUpdates(encoder, n);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    dispose() {
      dataset?.dispose();
      trainer.dispose();
      model.dispose();
    },
  };
}

/** Loads tfjs-backend-webgpu (after navigator.gpu exists) and makes it the tfjs backend. */
export async function initTfjs(): Promise<string> {
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not initialise its webgpu backend');
  await tf.ready();
  return tf.getBackend();
}

/** The same CD-k update in tfjs, parameters and velocities in tf.variables. */
function tfjsImpl(c: BenchConfig, params: RBMParamsF32): Impl {
  const { visible: V, hidden: H, batch: B, k } = c;
  const variable = (init: () => tf.Tensor): tf.Variable => {
    const t = init();
    const v = tf.variable(t);
    t.dispose();
    return v;
  };
  const W = variable(() => tf.tensor2d(params.W, [V, H]));
  const b = variable(() => tf.tensor1d(params.b));
  const cb = variable(() => tf.tensor1d(params.c));
  const Wv = variable(() => tf.zeros([V, H]));
  const bv = variable(() => tf.zeros([V]));
  const cv = variable(() => tf.zeros([H]));
  let data: tf.Tensor2D | undefined;
  const bernoulli = (p: tf.Tensor2D): tf.Tensor2D => tf.cast(tf.less<tf.Tensor2D>(tf.randomUniform(p.shape), p), 'float32');
  const hiddenProb = (v: tf.Tensor2D): tf.Tensor2D => tf.sigmoid(tf.add<tf.Tensor2D>(tf.matMul(v, W), cb));
  const visibleProb = (h: tf.Tensor2D): tf.Tensor2D => tf.sigmoid(tf.add<tf.Tensor2D>(tf.matMul(h, W, false, true), b));
  const momentumStep = (param: tf.Variable, vel: tf.Variable, grad: tf.Tensor): void => {
    vel.assign(tf.add(tf.mul(vel, MOMENTUM), tf.mul(grad, LEARNING_RATE / B)));
    param.assign(tf.add(param, vel));
  };
  const update = (u: number): void =>
    tf.tidy(() => {
      const v0 = tf.slice(data!, [u * B, 0], [B, V]);
      const p0 = hiddenProb(v0);
      let h = bernoulli(p0);
      let vk = v0;
      let pk = p0;
      for (let t = 1; t <= k; t++) {
        vk = bernoulli(visibleProb(h));
        pk = hiddenProb(vk);
        if (t < k) h = bernoulli(pk);
      }
      const gW = tf.sub(tf.matMul(v0, p0, true, false), tf.matMul(vk, pk, true, false));
      momentumStep(W, Wv, gW);
      momentumStep(b, bv, tf.sum(tf.sub(v0, vk), 0));
      momentumStep(cb, cv, tf.sum(tf.sub(p0, pk), 0));
    });
  return {
    async run(n) {
      if (!data || data.shape[0] < n * B) {
        data?.dispose();
        data = tf.tensor2d(binaryRows(n * B, V, n), [n * B, V]);
      }
      for (let u = 0; u < n; u++) update(u);
      // The one readback: a scalar that depends on the last update; the queue is in order.
      const done = tf.tidy(() => tf.sum(cb));
      await done.data();
      done.dispose();
    },
    dispose() {
      data?.dispose();
      for (const t of [W, b, cb, Wv, bv, cv]) t.dispose();
    },
  };
}

function cpuImpl(c: BenchConfig, params: RBMParamsF32): Impl {
  const cpu = new CpuRBM(c.visible, c.hidden, params, SEED);
  const batch = binaryRows(c.batch, c.visible, 1);
  return {
    async run(n) {
      for (let u = 0; u < n; u++) cpu.update(batch, c.batch, c.k, false, { learningRate: LEARNING_RATE, momentum: MOMENTUM });
    },
    dispose() {},
  };
}


interface Plan {
  name: ImplName;
  impl: Impl;
  /** Updates per timed repeat, and the number of repeats. */
  n: number;
  repeats: number;
  warmupMs?: number;
  perUpdate: number[];
}

/** Warms an implementation up and picks its updates per repeat from an estimate of one update. */
async function plan(
  name: ImplName,
  impl: Impl,
  opts: BenchOptions,
  predictedS: number | undefined,
  needsWarmup: boolean,
): Promise<Plan> {
  const target = opts.targetRepeatS * 1000;
  let warmupMs: number | undefined;
  let estimateMs = predictedS === undefined ? undefined : predictedS * 1000;
  if (needsWarmup || estimateMs === undefined || estimateMs < target) {
    warmupMs = await timeMs(() => impl.run(1));
    // The warm-up includes compilation (tfjs: seconds on SwiftShader); unless it was very long,
    // time one more update as the estimate.
    estimateMs = warmupMs < 4 * target ? await timeMs(() => impl.run(1)) : warmupMs;
  }
  const n = Math.max(1, Math.min(opts.maxUpdatesPerRepeat, Math.floor(target / estimateMs)));
  const repeats = n * estimateMs <= 1.5 * target ? opts.repeats : 1;
  return { name, impl, n, repeats, perUpdate: [], ...(warmupMs === undefined ? {} : { warmupMs }) };
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Times every implementation at one configuration; `rates` (GFLOP/s so far) is updated in place. */
export async function runConfig(
  device: GPUDevice,
  c: BenchConfig,
  opts: BenchOptions,
  rates: Rates,
  log: (line: string) => void,
): Promise<ConfigResult> {
  const flops = cdkFlops(c);
  const params = initialParams(c.visible, c.hidden);
  const results: Partial<Record<ImplName, Measurement | Skipped>> = {};
  const fail = (name: ImplName, e: unknown): void => {
    results[name] = { status: 'failed', reason: describeError(e) };
    log(`${c.name} ${name}: FAILED ${describeError(e)}`);
  };
  const plans: Plan[] = [];
  try {
    for (const name of IMPLS) {
      const rate = rates[name];
      const predictedS = rate === undefined ? undefined : flops / (rate * 1e9);
      if (rate !== undefined && predictedS !== undefined && predictedS > opts.maxUpdateS) {
        const reason = `predicted ${predictedS.toFixed(0)} s per update (at ${rate.toFixed(2)} GFLOP/s) > maxUpdateS ${opts.maxUpdateS}`;
        results[name] = { status: 'skipped', reason };
        log(`${c.name} ${name}: skipped, ${reason}`);
        continue;
      }
      let impl: Impl | undefined;
      try {
        impl = name === 'ours' ? await oursImpl(device, c, params) : name === 'tfjs' ? tfjsImpl(c, params) : cpuImpl(c, params);
        // Only tfjs compiles per shape; ours caches its size-independent pipelines per device and the
        // CPU reference needs no compilation, so once they ran a first size, slow sizes skip the warm-up.
        plans.push(await plan(name, impl, opts, predictedS, name === 'tfjs' || rate === undefined));
      } catch (e) {
        impl?.dispose();
        fail(name, e);
      }
    }
    // Repeats go round-robin over the implementations, so all see the same background load.
    for (let r = 0; r < opts.repeats; r++) {
      for (const p of plans) {
        if (r >= p.repeats || results[p.name]) continue;
        try {
          p.perUpdate.push((await timeMs(() => p.impl.run(p.n))) / p.n);
        } catch (e) {
          fail(p.name, e);
        }
      }
    }
  } finally {
    for (const p of plans) p.impl.dispose();
  }
  for (const p of plans) {
    if (results[p.name]) continue;
    const ms = median(p.perUpdate);
    const m: Measurement = {
      status: 'ok',
      msPerUpdate: ms,
      samplesPerS: (c.batch * 1000) / ms,
      gflops: flops / ms / 1e6,
      updatesPerRepeat: p.n,
      repeatMsPerUpdate: p.perUpdate,
      ...(p.warmupMs === undefined ? {} : { warmupMs: p.warmupMs }),
    };
    results[p.name] = m;
    rates[p.name] = m.gflops;
    log(
      `${c.name} ${p.name}: ${ms.toFixed(1)} ms/update, ${m.samplesPerS.toFixed(1)} samples/s, ` +
        `${m.gflops.toFixed(2)} GFLOP/s (${p.perUpdate.length}×${p.n} updates)`,
    );
  }
  const all = results as Record<ImplName, Measurement | Skipped>;
  const ratio = (other: ImplName): number | null => {
    const a = all.ours;
    const o = all[other];
    return a.status === 'ok' && o.status === 'ok' ? a.samplesPerS / o.samplesPerS : null;
  };
  const out: ConfigResult = { config: c, flopsPerUpdate: flops, results: all, oursOverTfjs: ratio('tfjs'), oursOverCpu: ratio('cpu') };
  if (opts.gemmPhases && c.k === 1) {
    // About ten dispatches per tile and kernel at full size cost about ten updates.
    const predictedS = all.ours.status === 'ok' ? (GEMM_PHASE_UPDATES * all.ours.msPerUpdate) / 1000 : 0;
    if (all.ours.status !== 'ok') {
      out.gemm = { status: 'skipped', reason: 'the CD update itself was not measured at this size' };
    } else if (predictedS > opts.maxUpdateS) {
      out.gemm = { status: 'skipped', reason: `predicted ${predictedS.toFixed(0)} s (≈ ${GEMM_PHASE_UPDATES} updates) > maxUpdateS ${opts.maxUpdateS}` };
      log(`${c.name} GEMM phases: skipped, ${out.gemm.reason}`);
    } else {
      try {
        out.gemm = await gemmPhases(device, { visible: c.visible, hidden: c.hidden, batch: c.batch });
        for (const g of out.gemm) {
          const sg = g.subgroup ? `, ${g.subgroup.tile} ${g.subgroup.gflops.toFixed(2)} GFLOP/s (×${g.subgroupSpeedup!.toFixed(2)})` : '';
          log(`${c.name} GEMM ${g.kernel}: ${g.plain.tile} ${g.plain.gflops.toFixed(2)} GFLOP/s${sg}; engine uses ${g.chosen}`);
        }
      } catch (e) {
        out.gemm = { status: 'failed', reason: describeError(e) };
        log(`${c.name} GEMM phases: FAILED ${describeError(e)}`);
      }
    }
  }
  return out;
}

export interface HostInfo {
  adapter: string;
  tfjsBackend: string;
}

/** What a runtime (the Chromium page or Node) offers the runner. */
export interface BenchHost {
  init(): Promise<HostInfo>;
  run(config: BenchConfig, options: BenchOptions): Promise<ConfigResult>;
  /** Resident vs sharded vs streamed training set, through model.fit (bench/placement.ts). */
  placement(quick: boolean, repeats: number): Promise<PlacementResult[]>;
}

/** A host on `gpu` (ours acquires its device from it; tfjs finds it as navigator.gpu). */
export function createHost(gpu: GPU, log: (line: string) => void): BenchHost {
  let device: GPUDevice | undefined;
  const rates: Rates = {};
  return {
    async init() {
      const acquired = await acquireDevice({ gpu });
      device = acquired.device;
      device.addEventListener('uncapturederror', (e) => log(`WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`));
      void device.lost.then((info) => log(`WebGPU device lost: ${info.message}`));
      const tfjsBackend = await initTfjs();
      return { adapter: acquired.adapterName, tfjsBackend };
    },
    run(config, options) {
      if (!device) throw new Error('call init() first');
      return runConfig(device, config, options, rates, log);
    },
    async placement(quick, repeats) {
      if (!device) throw new Error('call init() first');
      const out: PlacementResult[] = [];
      for (const c of placementConfigs(quick)) out.push(await runPlacement(device, c, repeats, log));
      return out;
    },
  };
}
