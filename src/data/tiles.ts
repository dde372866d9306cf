// Lays out images (or filters) as one grayscale grid, the picture behind the
// CLI's PNGs and the demo's canvases. Environment-neutral: pure arrays.

export interface TileGridOptions {
  /** Tiles per row; default ceil(sqrt(count)). */
  cols?: number;
  /** Pixels between tiles and around the border; default 1. */
  pad?: number;
  /** 'each': stretch each tile's min..max to 0..255 (filters); 'none': [0,1] -> 0..255 (samples). Default 'none'. */
  normalize?: 'each' | 'none';
  /** Gray level (0..255) of the padding; default 0. */
  background?: number;
}

export interface GrayImage {
  width: number;
  height: number;
  /** Row-major 8-bit gray, width * height bytes. */
  data: Uint8Array<ArrayBuffer>;
}

function positiveInt(name: string, n: number, min = 1): void {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${n}.`);
}

/** Tiles `count` row-major width x height images from `images` into one gray image. */
export function tileGrid(images: Float32Array, count: number, width: number, height: number, opts: TileGridOptions = {}): GrayImage {
  positiveInt('count', count);
  positiveInt('width', width);
  positiveInt('height', height);
  const size = width * height;
  if (images.length < count * size) {
    throw new RangeError(`${count} tiles of ${width}x${height} need ${count * size} values, got ${images.length}.`);
  }
  const cols = Math.min(opts.cols ?? Math.ceil(Math.sqrt(count)), count);
  const pad = opts.pad ?? 1;
  positiveInt('cols', cols);
  positiveInt('pad', pad, 0);
  const rows = Math.ceil(count / cols);
  const W = cols * (width + pad) + pad;
  const H = rows * (height + pad) + pad;
  const data = new Uint8Array(W * H).fill(opts.background ?? 0);
  const each = opts.normalize === 'each';
  for (let t = 0; t < count; t++) {
    const tile = images.subarray(t * size, (t + 1) * size);
    let lo = 0;
    let scale = 255;
    let flat = false;
    if (each) {
      let min = Infinity;
      let max = -Infinity;
      for (const x of tile) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
      // A flat (or non-finite) tile has no contrast to stretch: show it mid-gray.
      const span = max - min;
      flat = !(span > 0 && Number.isFinite(span));
      lo = min;
      scale = 255 / span;
    }
    const x0 = pad + (t % cols) * (width + pad);
    const y0 = pad + Math.floor(t / cols) * (height + pad);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = tile[y * width + x];
        const g = flat ? 128 : Math.round((v - lo) * scale);
        // NaN lands on 0; the clamp covers 'none' values outside [0,1].
        data[(y0 + y) * W + x0 + x] = g > 255 ? 255 : g >= 0 ? g : 0;
      }
    }
  }
  return { width: W, height: H, data };
}
