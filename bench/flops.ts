// A benchmark configuration and its FLOP count, shared by the CD-k benchmark (core.ts) and the data-placement one (placement.ts).

export interface BenchConfig {
  name: string;
  visible: number;
  hidden: number;
  batch: number;
  k: number;
}

/**
 * Multiply-adds ×2 of the three GEMM kinds in one CD-k update:
 * hidden passes 2·B·V·H × (1 + k), visible passes 2·B·V·H × k,
 * weight gradient [V0; Vk]ᵀ·[P0; −Pk] 2·(2B)·V·H — in total 2·B·V·H·(2k + 3).
 * Sigmoids, sampling and bias sums are O(B·(V + H)) and not counted.
 */
export function cdkFlops(c: BenchConfig): number {
  return 2 * c.batch * c.visible * c.hidden * (2 * c.k + 3);
}
