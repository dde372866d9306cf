// Drawing model data into canvases: tiled images with a colour map, filters in
// a diverging map, and heat strips. The canvases hold one pixel per image
// pixel; CSS scales them up with `image-rendering: pixelated`.

export type RGB = readonly [number, number, number];
export type ColorMap = (x: number) => RGB;

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;
const mix = (a: RGB, b: RGB, t: number): RGB => [lerp(a[0], b[0], t), lerp(a[1], b[1], t), lerp(a[2], b[2], t)];
const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

export const PAPER: RGB = [255, 255, 255];
export const INK: RGB = [22, 27, 34];
export const GAP: RGB = [226, 230, 235];
export const MODEL_INK: RGB = [37, 80, 200];

/** Dark ink on white paper: 0 → white, 1 → ink. */
export const inkMap: ColorMap = (x) => mix(PAPER, INK, clamp01(x));
/** Pixels the model filled in: blue ink. */
export const modelInkMap: ColorMap = (x) => mix(PAPER, MODEL_INK, clamp01(x));

const NEG: RGB = [33, 102, 172];
const POS: RGB = [178, 24, 43];
/** Diverging blue–white–red for signed values in [−1, 1]. */
export const divergingMap: ColorMap = (x) => (x < 0 ? mix(PAPER, NEG, clamp01(-x)) : mix(PAPER, POS, clamp01(x)));

const HEAT: RGB[] = [
  [255, 255, 255],
  [255, 236, 179],
  [253, 174, 97],
  [230, 85, 13],
  [127, 39, 4],
];
/** Sequential white → dark orange, for probabilities in [0, 1]. */
export const heatMap: ColorMap = (x) => {
  const t = clamp01(x) * (HEAT.length - 1);
  const i = Math.min(HEAT.length - 2, Math.floor(t));
  return mix(HEAT[i], HEAT[i + 1], t - i);
};

/** A colour map sampled at 256 points over [lo, hi]: the inner loops only index it. */
export interface Lut {
  lo: number;
  hi: number;
  rgb: Uint8Array;
}

export function makeLut(map: ColorMap, lo = 0, hi = 1): Lut {
  const rgb = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = map(lo + ((hi - lo) * i) / 255);
    rgb[i * 3] = Math.round(c[0]);
    rgb[i * 3 + 1] = Math.round(c[1]);
    rgb[i * 3 + 2] = Math.round(c[2]);
  }
  return { lo, hi, rgb };
}

export const solidLut = (c: RGB): Lut => makeLut(() => c);

export const INK_LUT = makeLut(inkMap);
export const MODEL_INK_LUT = makeLut(modelInkMap);
export const DIVERGING_LUT = makeLut(divergingMap, -1, 1);
export const HEAT_LUT = makeLut(heatMap);

export interface TileLayout {
  cols: number;
  rows: number;
  width: number;
  height: number;
  pad: number;
}

export function tileLayout(count: number, w: number, h: number, cols = Math.ceil(Math.sqrt(count)), pad = 1): TileLayout {
  cols = Math.max(1, Math.min(cols, count));
  const rows = Math.max(1, Math.ceil(count / cols));
  return { cols, rows, pad, width: cols * (w + pad) + pad, height: rows * (h + pad) + pad };
}

function sizeCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas context');
  return ctx;
}

export interface TileOptions {
  cols?: number;
  pad?: number;
  /** Colour maps (default: ink on paper); `pick` chooses one per pixel. */
  luts?: Lut[];
  pick?: (tile: number, pixel: number) => number;
  /** Map each tile's values to [−1, 1] by its largest magnitude first (filters). */
  symmetric?: boolean;
  gap?: RGB;
}

/** Draws `count` w×h images as a grid; `get(tile, pixel)` reads a value (any layout). */
export function drawTiles(
  canvas: HTMLCanvasElement,
  count: number,
  w: number,
  h: number,
  get: (tile: number, pixel: number) => number,
  o: TileOptions = {},
): TileLayout {
  const layout = tileLayout(count, w, h, o.cols, o.pad ?? 1);
  const ctx = sizeCanvas(canvas, layout.width, layout.height);
  const img = ctx.createImageData(layout.width, layout.height);
  const px = img.data;
  const gap = o.gap ?? GAP;
  for (let i = 0; i < px.length; i += 4) {
    px[i] = gap[0];
    px[i + 1] = gap[1];
    px[i + 2] = gap[2];
    px[i + 3] = 255;
  }
  const luts = o.luts ?? [INK_LUT];
  const pick = o.pick;
  const size = w * h;
  const values = new Float32Array(size);
  for (let t = 0; t < count; t++) {
    let m = 0;
    for (let p = 0; p < size; p++) {
      const v = get(t, p);
      values[p] = v;
      if (o.symmetric && Math.abs(v) > m) m = Math.abs(v);
    }
    const scale = o.symmetric && m > 0 ? 1 / m : 1;
    const x0 = layout.pad + (t % layout.cols) * (w + layout.pad);
    const y0 = layout.pad + Math.floor(t / layout.cols) * (h + layout.pad);
    for (let y = 0; y < h; y++) {
      let o4 = ((y0 + y) * layout.width + x0) * 4;
      for (let x = 0; x < w; x++, o4 += 4) {
        const p = y * w + x;
        const lut = pick ? luts[pick(t, p)] : luts[0];
        let k = Math.round(((values[p] * scale - lut.lo) / (lut.hi - lut.lo)) * 255);
        k = k < 0 ? 0 : k > 255 ? 255 : k;
        px[o4] = lut.rgb[k * 3];
        px[o4 + 1] = lut.rgb[k * 3 + 1];
        px[o4 + 2] = lut.rgb[k * 3 + 2];
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  return layout;
}

/** Images stored one after another ([count, w·h]). */
export function drawImages(canvas: HTMLCanvasElement, images: ArrayLike<number>, count: number, w: number, h: number, o: TileOptions = {}): TileLayout {
  const size = w * h;
  return drawTiles(canvas, count, w, h, (t, p) => images[t * size + p], o);
}

/** Hidden units' weight vectors from W [V, H] (row-major): unit j's filter is W[i·H + j]. */
export function drawFilters(canvas: HTMLCanvasElement, W: Float32Array, H: number, units: ArrayLike<number>, w: number, h: number, cols?: number): TileLayout {
  return drawTiles(canvas, units.length, w, h, (t, p) => W[p * H + units[t]], { symmetric: true, luts: [DIVERGING_LUT], cols });
}

/** One cell per value, `cols` per row. */
export function drawHeatStrip(canvas: HTMLCanvasElement, values: ArrayLike<number>, cols: number, lut: Lut = HEAT_LUT): void {
  const n = values.length;
  cols = Math.max(1, Math.min(cols, n));
  const rows = Math.ceil(n / cols);
  const ctx = sizeCanvas(canvas, cols, rows);
  const img = ctx.createImageData(cols, rows);
  for (let i = 0; i < cols * rows; i++) {
    let r = GAP[0];
    let g = GAP[1];
    let b = GAP[2];
    if (i < n) {
      let k = Math.round(((values[i] - lut.lo) / (lut.hi - lut.lo)) * 255);
      k = k < 0 ? 0 : k > 255 ? 255 : k;
      r = lut.rgb[k * 3];
      g = lut.rgb[k * 3 + 1];
      b = lut.rgb[k * 3 + 2];
    }
    img.data[i * 4] = r;
    img.data[i * 4 + 1] = g;
    img.data[i * 4 + 2] = b;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * A small bar chart of rates in [0, 1]: one bar per value, its value above it
 * and `labels` below (the swap acceptance of each neighbouring pair of temperatures).
 */
export function drawRateBars(canvas: HTMLCanvasElement, values: ArrayLike<number>, labels: string[]): void {
  const cssW = Math.max(160, Math.round(canvas.clientWidth || 320));
  const cssH = 110;
  const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  canvas.style.height = `${cssH}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, cssW, cssH);
  const n = values.length;
  const top = 16;
  const bottom = cssH - 18;
  const left = 4;
  const slot = (cssW - left * 2) / Math.max(1, n);
  ctx.strokeStyle = '#d0d7de';
  ctx.beginPath();
  ctx.moveTo(left, bottom + 0.5);
  ctx.lineTo(cssW - left, bottom + 0.5);
  ctx.moveTo(left, top + 0.5);
  ctx.lineTo(cssW - left, top + 0.5);
  ctx.stroke();
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  for (let i = 0; i < n; i++) {
    const v = clamp01(values[i]);
    const x = left + slot * i;
    const bw = Math.max(2, slot * 0.7);
    const h = (bottom - top) * v;
    ctx.fillStyle = v < 0.1 ? '#c2255c' : '#7048e8';
    ctx.fillRect(x + (slot - bw) / 2, bottom - h, bw, h);
    ctx.fillStyle = '#24292f';
    ctx.fillText(v.toFixed(2), x + slot / 2, Math.max(top - 4, bottom - h - 3));
    ctx.fillStyle = '#57606a';
    ctx.fillText(labels[i] ?? '', x + slot / 2, cssH - 5);
  }
}
