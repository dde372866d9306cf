// F(v) = Σ_i t(v_i, b_i) − Σ_j softplus(vᵀw_j + c_j) on the GPU, t the visible
// unit type's bias term (−b_i·v_i Bernoulli, (v_i − b_i)²/2 Gaussian: src/units),
// for RBM.freeEnergy and the monitors and evaluation that need it without the RBM class.
import { BufferOwner, readFloat32 } from '../gpu/buffers';
import { getKernel, KERNELS } from '../gpu/kernels';
import { DispatchPlan } from '../gpu/plan';
import { chooseTiles } from '../gpu/tune';
import { unitType } from '../units';
import type { ModelParams } from './params';
import { checkFiniteArray } from './validate';

/** Rows per free-energy block: bounds the [rows, H] softplus scratch. */
const FREE_ENERGY_BLOCK = 4096;

/** F(v) for each row of `data` ([rows, V]): (Gaussian visible units: Σ (v_i − b_i)²/2 − Σ_j softplus(…)). */
export async function freeEnergy(model: ModelParams, data: Float32Array): Promise<Float32Array> {
  model.assertLive();
  const V = model.visible;
  if (data.length === 0 || data.length % V !== 0) {
    throw new RangeError(`freeEnergy: data has ${data.length} values, not a multiple of visible=${V}`);
  }
  checkFiniteArray('freeEnergy data', data);
  const rows = data.length / V;
  const H = model.hidden;
  const device = model.device;
  const tiles = await chooseTiles(device, { visible: V, hidden: H, batch: Math.min(rows, FREE_ENERGY_BLOCK) });
  const [terms, reduce] = await Promise.all([
    getKernel(device, KERNELS.softplusTerms(tiles.hidden)),
    getKernel(device, KERNELS.freeEnergy(unitType(model.visibleType).wgsl)),
  ]);
  const scratch = new BufferOwner(device, 'freeEnergy');
  try {
    const input = scratch.storage('data', data);
    const out = scratch.storage('F', rows * 4);
    const block = Math.min(rows, FREE_ENERGY_BLOCK);
    const termBuffer = scratch.storage('softplus terms', block * H * 4);
    const encoder = device.createCommandEncoder({ label: 'freeEnergy' });
    // Blocks bound the scratch memory; each is a GEMM then a row reduction, in a pass of its own.
    for (let start = 0; start < rows; start += block) {
      const n = Math.min(block, rows - start);
      const tDims = scratch.uniform('terms dims', terms.pack('dims', { rows: n, row_offset: start, n_vis: V, n_hid: H }));
      const rDims = scratch.uniform('reduce dims', reduce.pack('dims', { rows: n, row_offset: start, n_vis: V, n_hid: H }));
      const plan = new DispatchPlan(device, { hint: 'use a model with fewer hidden units' });
      plan.add(terms, { dims: tDims, data: input, W: model.W, c: model.c, terms: termBuffer }, { rows: n, cols: H });
      plan.add(reduce, { dims: rDims, data: input, terms: termBuffer, b: model.b, out }, { elements: n, workgroupSize: 1 });
      const pass = encoder.beginComputePass();
      plan.encode(pass);
      pass.end();
    }
    device.queue.submit([encoder.finish()]);
    return await readFloat32(device, out, rows);
  } finally {
    scratch.dispose();
  }
}
