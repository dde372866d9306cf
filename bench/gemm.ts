// GEMM phases of one CD update, timed one kernel at a time at a configuration's
// full shape: for each of hidden / visible / update, the best tile without
// subgroups against the best subgroup tile (all candidates tuned here), alternating, median of
// rounds. Answers "do subgroups help on this adapter?" and, with the card's
// peak, "what fraction of f32 peak do the large GEMMs reach?".
import { tileName, type TileShape } from '../src/gpu/kernels';
import { median } from './stats';
import { chooseTiles, gemmFlops, GemmTimer, TILE_CANDIDATES, tuneShape, tuneTiles, type GemmKernel, type TuneProblem } from '../src/gpu/tune';

export interface TileTiming {
  tile: string;
  ms: number;
  gflops: number;
}

export interface GemmPhase {
  kernel: GemmKernel;
  /** 2 · rows · V · H for this kernel (hidden: 2B stacked rows, visible: B rows, update: K = 2B). */
  flops: number;
  /** The tile the engine uses for this kernel and shape. */
  chosen: string;
  plain: TileTiming;
  /** Absent when the device has no `subgroups` feature. */
  subgroup?: TileTiming;
  /** plain ms ÷ subgroup ms (> 1: subgroups are faster). */
  subgroupSpeedup?: number;
}

const GEMM_KERNELS: readonly GemmKernel[] = ['hidden', 'visible', 'update'];
const ROUNDS = 3;
/** Aim for about this long per timed dispatch batch. */
const TARGET_MS = 250;

function fastest(timings: Record<string, number>, want: (t: TileShape) => boolean): TileShape | undefined {
  let best: TileShape | undefined;
  for (const t of TILE_CANDIDATES) {
    const ms = timings[tileName(t)];
    if (ms === undefined || !want(t)) continue;
    if (!best || ms < timings[tileName(best)]) best = t;
  }
  return best;
}

export async function gemmPhases(device: GPUDevice, problem: TuneProblem): Promise<GemmPhase[]> {
  // Every candidate, not just the engine's family: the engine's choice is reported beside them.
  const report = await tuneTiles(device, tuneShape(problem));
  const engine = await chooseTiles(device, problem);
  const timer = new GemmTimer(device, problem);
  try {
    const phases: GemmPhase[] = [];
    for (const kernel of GEMM_KERNELS) {
      const plain = fastest(report.timings[kernel], (t) => !t.subgroups)!;
      const sg = fastest(report.timings[kernel], (t) => t.subgroups === true);
      const tiles = sg ? [plain, sg] : [plain];
      // Warm-up (compiles if needed) doubles as the estimate of one dispatch.
      const reps = await Promise.all(
        tiles.map(async (t) => {
          await timer.time(kernel, t, 1);
          return Math.max(1, Math.min(200, Math.round(TARGET_MS / (await timer.time(kernel, t, 1)))));
        }),
      );
      const samples: number[][] = tiles.map(() => []);
      for (let r = 0; r < ROUNDS; r++) {
        for (let i = 0; i < tiles.length; i++) samples[i].push(await timer.time(kernel, tiles[i], reps[i]));
      }
      const flops = gemmFlops(kernel, problem);
      const timing = (i: number): TileTiming => {
        const ms = median(samples[i]);
        return { tile: tileName(tiles[i]), ms, gflops: flops / ms / 1e6 };
      };
      const phase: GemmPhase = { kernel, flops, chosen: tileName(engine[kernel]), plain: timing(0) };
      if (sg) {
        phase.subgroup = timing(1);
        phase.subgroupSpeedup = phase.plain.ms / phase.subgroup.ms;
      }
      phases.push(phase);
    }
    return phases;
  } finally {
    timer.dispose();
  }
}
