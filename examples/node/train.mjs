// Trains a small RBM on the bundled MNIST digits in Node (Dawn), samples from
// it and saves it — using only the package's public Node entry.
// Run: npm run build:lib && node examples/node/train.mjs
import { readFile, writeFile } from 'node:fs/promises';
import { acquireDevice, nodeGPU, RBM, loadBundledMnist, splitDataset, gatherRows, columnMeans } from 'webgpu-rbm/node';

const assets = new URL('../../assets/', import.meta.url);
const { images } = await loadBundledMnist(async (name) => new Uint8Array(await readFile(new URL(name, assets))));
const { train } = splitDataset(images.count, 2000, 1);
const data = gatherRows(images.pixels, 784, train.subarray(0, 1000));

const { device, adapterName } = await acquireDevice({ gpu: nodeGPU() });
const model = RBM.create(device, { visible: 784, hidden: 32, seed: 7, visibleMarginals: columnMeans(data, 1000, 784) });
const result = await model.fit(data, { epochs: 2, batchSize: 50, learningRate: 0.05 });
const { samples } = await model.sample({ chains: 4, steps: 100 });
const out = process.argv[2] ?? 'example-model.safetensors';
await writeFile(out, await model.toSafetensors({ example: 'node' }));
console.log(JSON.stringify({ adapter: adapterName, recon_error: result.reconError, sampled: samples.length, saved: out }));
model.dispose();
device.destroy();
