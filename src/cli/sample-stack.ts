// `webgpu-rbm sample STACK.safetensors`: samples of a stack of RBMs (train
// --stack): Gibbs chains from noise in its top RBM, passed down through the
// layers below as means P(v | h), written as a PNG grid like a single RBM's.
import { isStackSafetensors } from '../index';
import { withFlagNames } from './args';
import { UsageError } from './errors';
import { imageShape, writeTilesPng } from './images';
import { readStandardisation } from './loglik';
import { fmt } from './output';
import type { JsonObject, Reporter } from './output';
import { toPixels } from './train';
import { withStackOnGpu } from './transform';

/** Whether a model file is a stack (tensors layer0.W, …), which `sample` hands to runStackSample. */
export function isStackModel(bytes: Uint8Array): boolean {
  return isStackSafetensors(bytes);
}

/** The sample flags a stack takes (checked by runSample before the file was read). */
export interface StackSampleFlags {
  chains: number;
  steps: number;
  keepEvery?: number;
  seed?: number;
  /** --pt: refused (a stack's top RBM is sampled with plain Gibbs chains). */
  pt: boolean;
  out: string;
}

export async function runStackSample(modelPath: string, bytes: Uint8Array, f: StackSampleFlags, out: Reporter): Promise<number> {
  if (f.pt) throw new UsageError(`${modelPath} is a stack of RBMs: it is sampled with Gibbs chains in its top RBM, not parallel tempering; drop --pt`);
  return withStackOnGpu(modelPath, bytes, out, async (gpu, { stack, metadata, standardisation: stored }) => {
    const shape = imageShape(metadata, stack.visible);
    const gaussian = stack.visibleType === 'gaussian';
    const standardisation = gaussian ? (stored ?? readStandardisation(metadata, stack.visible, modelPath)) : undefined;
    const sizes = stack.sizes.join('-');
    out.line(`sampling ${f.chains} chains × ${f.steps} sweeps in the top RBM of a ${sizes} stack, passed down ${stack.depth - 1} layer(s), on ${gpu.adapterName}`);
    const start = performance.now();
    const r = await withFlagNames({ chains: '--chains', steps: '--steps', keepEvery: '--keep-every' }, () =>
      stack.sample({ chains: f.chains, steps: f.steps, ...(f.keepEvery !== undefined ? { keepEvery: f.keepEvery } : {}), ...(f.seed !== undefined ? { seed: f.seed } : {}) }));
    const seconds = (performance.now() - start) / 1000;
    const images = standardisation ? toPixels(r.probabilities, standardisation.mean, standardisation.std) : r.probabilities;
    await writeTilesPng(f.out, images, r.kept * r.chains, shape, r.kept > 1 ? r.chains : undefined);
    out.line(`${f.chains} chains × ${f.steps} sweeps of a ${sizes} stack in ${fmt(seconds, 3)} s; wrote ${f.out} (${r.kept} × ${r.chains} tiles)`);
    const json: JsonObject = {
      command: 'sample',
      model: modelPath,
      stack: [...stack.sizes],
      visible: stack.visible,
      hidden: stack.hidden,
      width: shape.width,
      height: shape.height,
      chains: f.chains,
      steps: f.steps,
      keep_every: f.keepEvery ?? f.steps,
      kept: r.kept,
      visible_type: stack.visibleType,
      pt: false,
      seed: f.seed,
      seconds,
      out: f.out,
      adapter: gpu.adapterName,
    };
    out.result(json);
    return 0;
  });
}
