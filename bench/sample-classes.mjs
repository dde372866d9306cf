#!/usr/bin/env node
// Digit classes in a sample grid PNG (`webgpu-rbm sample` / `train --samples`):
// each 28×28 tile (1-pixel gaps) goes to the nearest class mean of the bundled
// digits by Euclidean distance — a crude judge, enough to tell "all 3s" from
// "several classes". Prints the class histogram and the number of distinct classes.
//
//   node bench/sample-classes.mjs samples.png [tiles]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decode } from 'fast-png';

const SIDE = 28;
const V = SIDE * SIDE;
const assets = new URL('../assets/', import.meta.url);

/** The payload of a gzipped IDX file (u8 data; the header's dims are skipped). */
function idxBytes(name) {
  const raw = gunzipSync(readFileSync(new URL(name, assets)));
  return raw.subarray(4 + 4 * raw[3]);
}

const images = idxBytes('mnist-digits-images-idx3-ubyte.gz');
const labels = idxBytes('mnist-digits-labels-idx1-ubyte.gz');
const means = Array.from({ length: 10 }, () => new Float64Array(V));
const counts = new Array(10).fill(0);
labels.forEach((y, r) => {
  counts[y]++;
  for (let i = 0; i < V; i++) means[y][i] += images[r * V + i] / 255;
});
means.forEach((m, y) => m.forEach((_, i) => (m[i] /= counts[y])));

const png = decode(readFileSync(process.argv[2]));
if (png.channels !== 1) throw new Error(`${process.argv[2]}: expected a grayscale PNG, got ${png.channels} channels`);
const cols = Math.floor((png.width - 1) / (SIDE + 1));
const rows = Math.floor((png.height - 1) / (SIDE + 1));
const tiles = Number(process.argv[3] ?? rows * cols);
const scale = png.depth === 16 ? 65535 : 255;
const hist = new Array(10).fill(0);
for (let t = 0; t < tiles; t++) {
  const x0 = 1 + (t % cols) * (SIDE + 1);
  const y0 = 1 + Math.floor(t / cols) * (SIDE + 1);
  let best = 0;
  let bestD = Infinity;
  for (let y = 0; y < 10; y++) {
    let d = 0;
    for (let i = 0; i < V; i++) {
      const p = png.data[(y0 + Math.floor(i / SIDE)) * png.width + x0 + (i % SIDE)] / scale;
      d += (p - means[y][i]) ** 2;
    }
    if (d < bestD) [best, bestD] = [y, d];
  }
  hist[best]++;
}
console.log(`classes ${hist.map((n, k) => `${k}:${n}`).join(' ')} distinct ${hist.filter((n) => n > 0).length}`);
