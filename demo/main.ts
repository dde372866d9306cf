// Placeholder demo: proves the engine loads in the browser and trains a tiny model.
import { acquireDevice, RBM } from '../src/index';

const status = document.getElementById('status')!;
try {
  const { device, adapterName } = await acquireDevice();
  const model = RBM.create(device, { visible: 16, hidden: 8, seed: 1 });
  const trainer = await model.createTrainer({ batchSize: 4 });
  const batch = Float32Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  for (let i = 0; i < 10; i++) trainer.update(batch, { learningRate: 0.1, momentum: 0.5 });
  const F = await model.freeEnergy(batch);
  status.textContent = `WebGPU adapter: ${adapterName}. 10 CD-1 updates ran; F(v₀) = ${F[0].toFixed(3)}.`;
} catch (e) {
  status.textContent = e instanceof Error ? e.message : String(e);
}
