// Real data: a small RBM on bundled MNIST digits learns (reconstruction error falls).
import { beforeAll, expect, it } from 'vitest';
import { RBM } from '../../src/rbm/model';
import { columnMeans } from '../../src/rbm/init';
import { loadBundledMnistNode } from '../../src/data/assets-node';
import { splitDataset, gatherRows } from '../../src/data/split';
import { testDevice } from '../helpers/device';
import { LEGACY_FIT_OPTIONS } from '../helpers/legacy-fit';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

it('CD-1 on 2,000 MNIST digits: reconstruction error falls epoch over epoch', async () => {
  const { images } = await loadBundledMnistNode();
  const { train } = splitDataset(images.count, 2000, 1);
  const data = gatherRows(images.pixels, 784, train.subarray(0, 2000));
  const model = RBM.create(device, { visible: 784, hidden: 32, seed: 3, visibleMarginals: columnMeans(data, 2000, 784) });
  const r = await model.fit(data, { ...LEGACY_FIT_OPTIONS, epochs: 4, batchSize: 50, learningRate: 0.05 });
  model.dispose();
  expect(r.reconError).toHaveLength(4);
  for (let e = 1; e < 4; e++) expect(r.reconError[e]).toBeLessThan(r.reconError[e - 1]);
  // Pixels are mostly 0 or 1, so a model that learned nothing stays above 0.08 (measured: 0.085 after epoch 1, 0.069 after epoch 4).
  expect(r.reconError[3]).toBeLessThan(0.075);
}, 300_000);
