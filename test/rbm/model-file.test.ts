// The model file's schema in the library: RBM.toSafetensors / fromSafetensors
// store and restore a Gaussian model's standardisation and the image shape;
// Bernoulli files carry none; contradictions are refused, naming the key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  imageShapeMetadata, MODEL_KEYS, RBM, rbmFromSafetensors, rbmToSafetensors, readImageShape, readModelStandardisation,
  SafetensorsFormatError, standardisationMetadata,
} from '../../src/index';
import { testDevice } from '../helpers/device';
import { mulberry32, randomNormal } from '../helpers/random';

const V = 6;
const H = 4;
let device: GPUDevice;
const models: RBM[] = [];
beforeAll(async () => {
  device = await testDevice();
});
afterAll(() => models.forEach((m) => m.dispose()));

function params(seed: number): { W: Float32Array; b: Float32Array; c: Float32Array } {
  const rand = mulberry32(seed);
  return { W: randomNormal(V * H, 0.1, rand), b: randomNormal(V, 0.1, rand), c: randomNormal(H, 0.1, rand) };
}

// Values whose float32 forms print with many digits: the round trip must be exact, not close.
const standardisation = {
  mean: Float32Array.from([0.1, 0.2, 1 / 3, -0.7, 1e-7, 0.123456789]),
  std: Float32Array.from([1, 0.5, 2 / 3, 3.3, 1e-3, 0.987654321]),
};

describe('RBM.toSafetensors / fromSafetensors', () => {
  it('a Gaussian model round-trips its standardisation exactly, with its image shape', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params: params(1), visibleType: 'gaussian' });
    models.push(model);
    const bytes = await model.toSafetensors({ format: 'webgpu-rbm', visible: 'gaussian', ...imageShapeMetadata({ width: 3, height: 2 }) }, { standardisation });
    const loaded = RBM.fromSafetensors(device, bytes);
    models.push(loaded.model);
    expect(loaded.model.visibleType).toBe('gaussian');
    expect(loaded.standardisation).toBeDefined();
    expect(Array.from(loaded.standardisation!.mean)).toEqual(Array.from(standardisation.mean));
    expect(Array.from(loaded.standardisation!.std)).toEqual(Array.from(standardisation.std));
    expect(loaded.imageShape).toEqual({ width: 3, height: 2 });
    // The keys are the CLI's, appended after the caller's: the same file as the metadata helper placed there.
    expect(Object.keys(loaded.metadata)).toEqual(['format', 'visible', 'width', 'height', MODEL_KEYS.mean, MODEL_KEYS.std]);
    const viaMetadata = await model.toSafetensors({
      format: 'webgpu-rbm', visible: 'gaussian', width: '3', height: '2', ...standardisationMetadata(standardisation),
    });
    expect(Array.from(viaMetadata)).toEqual(Array.from(bytes));
  });

  it('a Bernoulli model has no standardisation, and refuses one', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params: params(2) });
    models.push(model);
    const loaded = RBM.fromSafetensors(device, await model.toSafetensors({ seed: '3' }));
    models.push(loaded.model);
    expect(loaded.model.visibleType).toBe('bernoulli');
    expect(loaded.standardisation).toBeUndefined();
    expect(loaded.imageShape).toBeUndefined();
    expect(Object.keys(loaded.metadata)).toEqual(['seed']);
    await expect(model.toSafetensors({}, { standardisation })).rejects.toThrow(/Gaussian models only; this model is bernoulli/);
  });

  it('a Gaussian model saved without a standardisation loads without one', async () => {
    const model = RBM.create(device, { visible: V, hidden: H, params: params(3), visibleType: 'gaussian' });
    models.push(model);
    const loaded = RBM.fromSafetensors(device, await model.toSafetensors());
    models.push(loaded.model);
    expect(loaded.model.visibleType).toBe('gaussian');
    expect(loaded.standardisation).toBeUndefined();
  });
});

describe('the schema without a device', () => {
  const p = { visible: V, hidden: H, ...params(4) };

  it('refuses a standardisation that contradicts the metadata, or is malformed', () => {
    const other = { mean: standardisation.mean.map((x) => x + 1), std: standardisation.std };
    expect(() => rbmToSafetensors({ ...p, visibleType: 'gaussian', metadata: standardisationMetadata(other), standardisation })).toThrow(
      /metadata "standardize_mean" contradicts the standardisation given/,
    );
    // The same values in both places are one standardisation, not a contradiction.
    expect(() => rbmToSafetensors({ ...p, visibleType: 'gaussian', metadata: standardisationMetadata(standardisation), standardisation })).not.toThrow();
    const bad = [
      [{ mean: standardisation.mean, std: Float32Array.from([1, 1, 0, 1, 1, 1]) }, /"standardize_std" holds 0 at index 2/],
      [{ mean: new Float32Array(5), std: standardisation.std }, /"standardize_mean" holds 5 values but the model has 6 visible units/],
      [{ mean: Float32Array.from([0, 0, NaN, 0, 0, 0]), std: standardisation.std }, /"standardize_mean" holds null at index 2/],
    ] as const;
    for (const [s, pattern] of bad) {
      expect(() => rbmToSafetensors({ ...p, visibleType: 'gaussian', standardisation: s })).toThrow(SafetensorsFormatError);
      expect(() => rbmToSafetensors({ ...p, visibleType: 'gaussian', standardisation: s })).toThrow(pattern);
    }
  });

  it('reads what it writes, and nothing from files without the keys', () => {
    const file = rbmFromSafetensors(rbmToSafetensors({ ...p, visibleType: 'gaussian', standardisation }));
    expect(Array.from(file.standardisation!.std)).toEqual(Array.from(standardisation.std));
    expect(rbmFromSafetensors(rbmToSafetensors(p)).standardisation).toBeUndefined();
    expect(readModelStandardisation({}, V)).toBeUndefined();
    expect(() => readModelStandardisation({ [MODEL_KEYS.mean]: '[0,0,0,0,0,0]' }, V)).toThrow(/has "standardize_mean" but no "standardize_std"/);
  });

  it('reads an image shape only when it fits the visible units', () => {
    expect(readImageShape({ width: '3', height: '2' }, 6)).toEqual({ width: 3, height: 2 });
    expect(readImageShape({ width: '3', height: '3' }, 6)).toBeUndefined();
    expect(readImageShape({ width: 'wide', height: '2' }, 6)).toBeUndefined();
    expect(readImageShape({}, 6)).toBeUndefined();
    // Files this project wrote that contradict themselves are refused on load.
    expect(() => rbmFromSafetensors(rbmToSafetensors({ ...p, metadata: { format: 'webgpu-rbm', width: '3', height: '3' } }))).toThrow(
      /"width" × "height" = 3 × 3 = 9, but the model has 6 visible units/,
    );
  });
});
