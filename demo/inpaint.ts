// Inpainting: hide part of a test digit and let the model fill it in by Gibbs
// sampling with the visible part clamped, a few sweeps per frame.
import type { GibbsChains, RBM } from '../src/index';
import { drawImages, drawTiles, INK_LUT, MODEL_INK_LUT, solidLut, type RGB } from './render';

export const OCCLUSIONS = ['bottom half', 'top half', 'left half', 'right half', 'centre square', 'custom rectangle'] as const;
export type Occlusion = (typeof OCCLUSIONS)[number];

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const HOLE_A: RGB = [255, 228, 230];
const HOLE_B: RGB = [255, 244, 245];
/** Known pixels in black ink, the model's in blue, the hole hatched. */
const LUTS = [INK_LUT, MODEL_INK_LUT, solidLut(HOLE_A), solidLut(HOLE_B)];

/** Gaussian visible units: pixels → standardised values and back (clipped to [0, 1]). */
export interface PixelTransform {
  toModel(x: Float32Array): Float32Array;
  toPixels(x: Float32Array): Float32Array;
}

export class Inpainter {
  mode: Occlusion = 'bottom half';
  rect: Rect = { x0: 6, y0: 6, x1: 22, y1: 22 };
  digit = 0;
  running = true;
  /** Sweeps after which it stops by itself ("Resample" starts again). */
  maxSweeps = 600;
  sweeps = 0;
  needsSetup = true;
  /** 1 where the pixel is known (clamped), 0 in the hole. */
  mask: Float32Array;
  original: Float32Array;
  /** The current completions: [chains, V], known pixels from the original, the hole from the model. */
  completions: Float32Array;
  private chains?: GibbsChains;
  private chainsModel?: RBM;
  private xf?: PixelTransform;

  constructor(
    public width: number,
    public height: number,
    readonly count: number,
  ) {
    const V = width * height;
    this.mask = new Float32Array(V);
    this.original = new Float32Array(V);
    this.completions = new Float32Array(count * V);
  }

  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    const V = width * height;
    this.mask = new Float32Array(V);
    this.original = new Float32Array(V);
    this.completions = new Float32Array(this.count * V);
    this.rect = { x0: Math.round(width * 0.2), y0: Math.round(height * 0.2), x1: Math.round(width * 0.8), y1: Math.round(height * 0.8) };
    this.needsSetup = true;
  }

  /** The hole for the current mode, as a rectangle [x0, x1) × [y0, y1). */
  hole(): Rect {
    const w = this.width;
    const h = this.height;
    switch (this.mode) {
      case 'bottom half':
        return { x0: 0, y0: Math.floor(h / 2), x1: w, y1: h };
      case 'top half':
        return { x0: 0, y0: 0, x1: w, y1: Math.ceil(h / 2) };
      case 'left half':
        return { x0: 0, y0: 0, x1: Math.ceil(w / 2), y1: h };
      case 'right half':
        return { x0: Math.floor(w / 2), y0: 0, x1: w, y1: h };
      case 'centre square':
        return { x0: Math.round(w * 0.3), y0: Math.round(h * 0.3), x1: Math.round(w * 0.7), y1: Math.round(h * 0.7) };
      default:
        return this.rect;
    }
  }

  /** Builds the mask for `digit` and fresh clamped chains on `model`. */
  async setup(model: RBM, digit: Float32Array, xf?: PixelTransform): Promise<void> {
    this.dispose();
    const { mask, values } = this.prepare(digit, xf);
    this.chains = await model.createChains({ chains: this.count, init: values.slice(), clamp: { mask, values } });
    this.chainsModel = model;
    this.needsSetup = false;
  }

  /**
   * The CPU half of setup: the mask, the original and the empty completions for `digit`
   * (drawable before any GPU work), and the clamp for the chains.
   */
  prepare(digit: Float32Array, xf?: PixelTransform): { mask: Float32Array; values: Float32Array } {
    this.xf = xf;
    // Gaussian units clamp the standardised digit; the hole starts at the mean pixel (0).
    const known = xf ? xf.toModel(digit) : undefined;
    const V = this.width * this.height;
    const n = this.count;
    this.original = digit.slice();
    const r = this.hole();
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const inHole = x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
        this.mask[y * this.width + x] = inHole ? 0 : 1;
      }
    }
    const mask = new Float32Array(n * V);
    const values = new Float32Array(n * V);
    for (let c = 0; c < n; c++) {
      for (let i = 0; i < V; i++) {
        mask[c * V + i] = this.mask[i];
        values[c * V + i] = known ? this.mask[i] * known[i] : this.mask[i] > 0 && digit[i] > 0.5 ? 1 : 0;
      }
    }
    // The hole starts empty; the first sweeps fill it from what is visible.
    this.completions = new Float32Array(n * V);
    for (let c = 0; c < n; c++) for (let i = 0; i < V; i++) this.completions[c * V + i] = this.mask[i] * digit[i];
    this.sweeps = 0;
    return { mask, values };
  }

  /** Advances the chains by `sweeps` and takes their probabilities as the new completions. */
  async step(sweeps: number): Promise<boolean> {
    const chains = this.chains;
    if (!chains || !this.running || this.sweeps >= this.maxSweeps) return false;
    const { probabilities: out } = await chains.run(sweeps);
    if (chains !== this.chains) return false;
    const probabilities = this.xf ? this.xf.toPixels(out) : out;
    const V = this.width * this.height;
    for (let c = 0; c < this.count; c++) {
      for (let i = 0; i < V; i++) {
        this.completions[c * V + i] = this.mask[i] > 0 ? this.original[i] : probabilities[c * V + i];
      }
    }
    this.sweeps += sweeps;
    return true;
  }

  get model(): RBM | undefined {
    return this.chainsModel;
  }

  /** Mean intensity of the completions inside the hole (0 right after setup). */
  holeMean(): number {
    const V = this.width * this.height;
    let s = 0;
    let n = 0;
    for (let c = 0; c < this.count; c++) {
      for (let i = 0; i < V; i++) {
        if (this.mask[i] === 0) {
          s += this.completions[c * V + i];
          n++;
        }
      }
    }
    return n > 0 ? s / n : 0;
  }

  drawOriginal(canvas: HTMLCanvasElement): void {
    drawImages(canvas, this.original, 1, this.width, this.height, { pad: 0 });
  }

  /** The model's input: known pixels in ink, the hole hatched. */
  drawInput(canvas: HTMLCanvasElement): void {
    const w = this.width;
    drawTiles(canvas, 1, w, this.height, (_t, p) => this.original[p], {
      pad: 0,
      luts: LUTS,
      pick: (_t, p) => (this.mask[p] > 0 ? 0 : ((p % w) + Math.floor(p / w)) % 4 < 2 ? 2 : 3),
    });
  }

  /** Completions: known pixels in black ink, filled-in pixels in blue. */
  drawCompletions(canvas: HTMLCanvasElement, cols: number): void {
    drawImages(canvas, this.completions, this.count, this.width, this.height, {
      cols,
      luts: LUTS,
      pick: (_t, p) => (this.mask[p] > 0 ? 0 : 1),
    });
  }

  /** The mean over the chains: known pixels as given, the hole as the model's average belief. */
  drawMean(canvas: HTMLCanvasElement): void {
    const V = this.width * this.height;
    const mean = new Float32Array(V);
    for (let c = 0; c < this.count; c++) for (let i = 0; i < V; i++) mean[i] += this.completions[c * V + i] / this.count;
    drawImages(canvas, mean, 1, this.width, this.height, { pad: 0, luts: LUTS, pick: (_t, p) => (this.mask[p] > 0 ? 0 : 1) });
  }

  dispose(): void {
    this.chains?.dispose();
    this.chains = undefined;
    this.chainsModel = undefined;
  }
}
