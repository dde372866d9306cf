// Where the training set lives, timed: the whole training loop (model.fit:
// gather, CD-k updates, metrics, per-epoch readbacks) on the same u8 data set
// and adapter, in one run, three ways —
//   resident: one GPU buffer (GpuDataset);
//   sharded:  the same rows split over SHARDS buffers (maxShardBytes), one gather dispatch each;
//   streamed: two blocks of rows/BLOCKS rows on the GPU (dataBudgetBytes), refilled from host memory
//             each epoch (src/rbm/streamed-dataset.ts, docs/streaming.md).
// Samples/s is FitResult.samplesPerSecond (the epoch loop, after upload and set-up); repeats round-robin.
import { RBM } from '../src/index';
import { checkSource, residentBytes } from '../src/rbm/dataset';
import { blockBytes } from '../src/rbm/streamed-dataset';
import type { DataPlacement } from '../src/rbm/streamed-dataset';
import type { DataSource } from '../src/data/source';
import { cdkFlops, type BenchConfig } from './flops';
import { median, prng } from './stats';

export interface PlacementConfig extends BenchConfig {
  /** Rows of the training set. */
  rows: number;
  /** Epochs per timed repeat. */
  epochs: number;
}

export const PLACEMENT_MODES = ['resident', 'sharded', 'streamed'] as const;
export type PlacementMode = (typeof PLACEMENT_MODES)[number];

export interface PlacementRun {
  mode: PlacementMode;
  /** What fit reported: resident (with its shard count) or streamed (block rows, blocks per epoch). */
  data: DataPlacement;
  samplesPerS: number;
  msPerUpdate: number;
  gflops: number;
  /** Every repeat's samples/s; samplesPerS is their median. */
  repeatSamplesPerS: number[];
}

export interface PlacementResult {
  config: PlacementConfig;
  flopsPerUpdate: number;
  runs: PlacementRun[];
  /** samples/s ÷ resident's. */
  shardedOverResident: number;
  streamedOverResident: number;
}

/** Shards of the sharded run and blocks per epoch of the streamed one. */
const SHARDS = 6;
const BLOCKS = 6;

export function placementConfigs(quick: boolean): PlacementConfig[] {
  const base = { visible: 784, batch: 100, k: 1, epochs: 2 };
  const all: PlacementConfig[] = [
    { ...base, name: '784x64 B=100 k=1, 12000 rows', hidden: 64, rows: 12000 },
    { ...base, name: '784x500 B=100 k=1, 12000 rows', hidden: 500, rows: 12000 },
  ];
  return quick ? all.slice(0, 1) : all;
}

/** MNIST-like 8-bit rows: about a fifth of the pixels bright, the rest dark (mulberry32, seeded). */
function byteRows(rows: number, V: number, seed: number): DataSource {
  const next = prng(seed);
  const bytes = new Uint8Array(rows * V);
  for (let e = 0; e < bytes.length; e++) bytes[e] = next() < 0.2 ? 128 + Math.floor(next() * 128) : Math.floor(next() * 16);
  return { format: 'u8', bytes };
}

export async function runPlacement(
  device: GPUDevice, c: PlacementConfig, repeats: number, log: (line: string) => void,
): Promise<PlacementResult> {
  const V = c.visible;
  const data = byteRows(c.rows, V, 1);
  const checked = checkSource(data, V, {});
  const whole = residentBytes(device, checked, V).bytes;
  const blockRows = Math.max(c.batch, Math.floor(c.rows / BLOCKS / c.batch) * c.batch);
  const options: Record<PlacementMode, { maxShardBytes?: number; dataBudgetBytes?: number }> = {
    resident: {},
    sharded: { maxShardBytes: Math.ceil(whole / SHARDS) },
    streamed: { dataBudgetBytes: 2 * blockBytes(checked, V, blockRows) + 4 * c.rows },
  };
  const flops = cdkFlops(c);
  const models = PLACEMENT_MODES.map(() => RBM.create(device, { visible: V, hidden: c.hidden, seed: 7 }));
  const samples: Record<PlacementMode, number[]> = { resident: [], sharded: [], streamed: [] };
  const placed: Partial<Record<PlacementMode, DataPlacement>> = {};
  const fit = async (i: number, epochs: number): Promise<number> => {
    const mode = PLACEMENT_MODES[i];
    const r = await models[i].fit(data, {
      // CD-k as the FLOP count (cdkFlops) assumes, plain gradients: not fit's PCD / centered defaults.
      epochs, batchSize: c.batch, k: c.k, persistent: false, centered: false, learningRate: 0.05, momentum: 0.5, seed: 7, ...options[mode],
    });
    placed[mode] = r.data;
    return r.samplesPerSecond;
  };
  try {
    // Warm-up (pipelines, tile tuning), then repeats round-robin so every mode sees the same background load.
    for (let i = 0; i < models.length; i++) await fit(i, 1);
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < models.length; i++) samples[PLACEMENT_MODES[i]].push(await fit(i, c.epochs));
    }
  } finally {
    for (const m of models) m.dispose();
  }
  const runs = PLACEMENT_MODES.map((mode): PlacementRun => {
    const samplesPerS = median(samples[mode]);
    const msPerUpdate = (1000 * c.batch) / samplesPerS;
    const run = { mode, data: placed[mode]!, samplesPerS, msPerUpdate, gflops: flops / msPerUpdate / 1e6, repeatSamplesPerS: samples[mode] };
    const d = run.data;
    const where = d.kind === 'resident' ? `${d.shards} buffer(s)` : `blocks of ${d.blockRows} rows × ${d.blocksPerEpoch} per epoch`;
    log(`${c.name} ${mode}: ${samplesPerS.toFixed(0)} samples/s, ${msPerUpdate.toFixed(2)} ms/update, ${run.gflops.toFixed(2)} GFLOP/s (${where}, ${(d.gpuBytes / 1e6).toFixed(1)} MB on the GPU)`);
    return run;
  });
  return {
    config: c,
    flopsPerUpdate: flops,
    runs,
    shardedOverResident: runs[1].samplesPerS / runs[0].samplesPerS,
    streamedOverResident: runs[2].samplesPerS / runs[0].samplesPerS,
  };
}
