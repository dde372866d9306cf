// The model file's schema on read: every problem with the unit type, the
// standardisation of a Gaussian model, the recorded sizes or the parameters
// is an error naming the key, never a silent Bernoulli model; files from other
// writers (just W, b, c) still load as Bernoulli.
import { describe, expect, it } from 'vitest';
import { SafetensorsFormatError, safetensorsDeclaredSize } from '../../src/rbm/safetensors';
import { rbmFromSafetensors, rbmToSafetensors, STD_MEAN_KEY, STD_STD_KEY } from '../../src/rbm/model-file';
import { readStandardisation } from '../../src/cli/loglik';
import { CliError } from '../../src/cli/errors';
import { f32Bytes, rawSafetensors } from './helpers';

const V = 3;
const H = 2;

/** A model file as a foreign writer (or a hand edit) might leave it: W [3,2], b [3], c [2], any metadata. */
function file(metadata?: Record<string, string>, W: number[] = [1, 2, 3, 4, 5, 6]): Uint8Array {
  const data = new Uint8Array(4 * (6 + 3 + 2));
  data.set(f32Bytes(W), 0);
  data.set(f32Bytes([0.5, 0, -0.5]), 24);
  data.set(f32Bytes([1, -1]), 36);
  const header: Record<string, unknown> = {
    W: { dtype: 'F32', shape: [V, H], data_offsets: [0, 24] },
    b: { dtype: 'F32', shape: [V], data_offsets: [24, 36] },
    c: { dtype: 'F32', shape: [H], data_offsets: [36, 44] },
  };
  if (metadata) header.__metadata__ = metadata;
  return rawSafetensors(header, data);
}

const ours = (extra: Record<string, string> = {}): Record<string, string> => ({ format: 'webgpu-rbm', visible_units: '3', hidden_units: '2', ...extra });
const gaussian = (extra: Record<string, string> = {}): Record<string, string> =>
  ours({ visible: 'gaussian', [STD_MEAN_KEY]: '[0.1,0.2,0.3]', [STD_STD_KEY]: '[1,0.5,2]', ...extra });

function expectSchemaError(bytes: Uint8Array, ...patterns: RegExp[]): void {
  let error: unknown;
  try {
    rbmFromSafetensors(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SafetensorsFormatError);
  for (const p of patterns) expect((error as Error).message).toMatch(p);
}

describe('model files: what loads', () => {
  it('a foreign file with no metadata, or unrelated metadata, is Bernoulli', () => {
    expect(rbmFromSafetensors(file()).visibleType).toBe('bernoulli');
    expect(rbmFromSafetensors(file({ format: 'pt', width: 'wide' })).visibleType).toBe('bernoulli');
  });

  it('an older webgpu-rbm file without "visible" (and without a standardisation) is Bernoulli', () => {
    expect(rbmFromSafetensors(file(ours())).visibleType).toBe('bernoulli');
  });

  it('a Gaussian model carries its checked standardisation', () => {
    const m = rbmFromSafetensors(file(gaussian()));
    expect(m.visibleType).toBe('gaussian');
    expect(Array.from(m.standardisation!.mean)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    expect(Array.from(m.standardisation!.std)).toEqual([1, 0.5, 2]);
    // A library-written Gaussian model without a standardisation is fine for the library.
    expect(rbmFromSafetensors(file({ visible: 'gaussian' })).standardisation).toBeUndefined();
  });

  it('round-trips what rbmToSafetensors writes, Gaussian standardisation included', () => {
    const bytes = rbmToSafetensors({
      visible: V, hidden: H, W: new Float32Array(6), b: new Float32Array(3), c: new Float32Array(2), visibleType: 'gaussian', metadata: gaussian(),
    });
    expect(rbmFromSafetensors(bytes).visibleType).toBe('gaussian');
  });
});

describe('model files: what is refused, naming the key', () => {
  it.each([
    ['ising', /"visible" is "ising"; expected "bernoulli", "gaussian" or "potts"/],
    ['potts', /"visible" is "potts" but "visible_states" \(the states per site q\) is missing/],
    ['Gaussian', /"visible" is "Gaussian".*lower case.*"gaussian"/],
    ['BERNOULLI', /"visible" is "BERNOULLI".*"bernoulli"/],
    [' gaussian', /"visible" is " gaussian"/],
    ['', /"visible" is ""/],
  ])('an unknown "visible" value %j', (value, pattern) => {
    expectSchemaError(file({ visible: value }), pattern);
  });

  it('a standardisation without "visible" is contradictory, not Bernoulli', () => {
    const meta = gaussian();
    delete meta.visible;
    expectSchemaError(file(meta), /"standardize_mean".*no "visible" key/, /"visible": "gaussian"/);
    // Without the format key too: the standardisation keys are this project's.
    expectSchemaError(file({ [STD_STD_KEY]: '[1,1,1]' }), /"standardize_std".*no "visible" key/);
  });

  it('a Bernoulli model with a standardisation, or half a standardisation', () => {
    expectSchemaError(file(gaussian({ visible: 'bernoulli' })), /"standardize_mean", which only Gaussian models carry, but "visible" is "bernoulli"/);
    const half = gaussian();
    delete half[STD_STD_KEY];
    expectSchemaError(file(half), /has "standardize_mean" but no "standardize_std"/);
  });

  it.each([
    [STD_STD_KEY, '[1,0,2]', /"standardize_std" holds 0 at index 1; every standard deviation must be a positive/],
    [STD_STD_KEY, '[1,-2,2]', /"standardize_std" holds -2 at index 1/],
    [STD_STD_KEY, '[1,1e-50,2]', /"standardize_std" holds 1e-50 at index 1/],
    [STD_STD_KEY, '[1,null,2]', /"standardize_std" holds null at index 1; every value must be a finite number/],
    [STD_MEAN_KEY, '[0,"0.5",1]', /"standardize_mean" holds "0.5" at index 1/],
    [STD_MEAN_KEY, '[0,1e999,1]', /"standardize_mean" holds Infinity at index 1/],
    [STD_MEAN_KEY, '[0,1]', /"standardize_mean" holds 2 values but the model has 3 visible units/],
    [STD_MEAN_KEY, '[0,1,2,3]', /"standardize_mean" holds 4 values/],
    [STD_MEAN_KEY, '{"a":1}', /"standardize_mean" is an object, not a JSON array of 3 numbers/],
    [STD_MEAN_KEY, '5', /"standardize_mean" is 5, not a JSON array/],
    [STD_STD_KEY, 'NaN', /"standardize_std" is not JSON/],
    [STD_STD_KEY, '[1,2', /"standardize_std" is not JSON/],
  ])('%s = %s', (key, value, pattern) => {
    expectSchemaError(file(gaussian({ [key]: value })), pattern);
  });

  it('recorded sizes that disagree with W', () => {
    expectSchemaError(file(ours({ visible_units: '4' })), /"visible_units" is 4 but W \[V, H\] has V = 3/);
    expectSchemaError(file(ours({ hidden_units: 'two' })), /"hidden_units" is "two"; expected a positive integer/);
    expectSchemaError(file(ours({ width: '2', height: '2' })), /"width" × "height" = 2 × 2 = 4, but the model has 3 visible units/);
  });

  it('non-finite parameters', () => {
    expectSchemaError(file(undefined, [1, 2, 3, NaN, 5, 6]), /tensor "W" holds NaN at \[1, 1\]/);
    expectSchemaError(file(undefined, [1, 2, 3, 4, 5, -Infinity]), /tensor "W" holds -Infinity at \[2, 1\]/);
  });

  it('missing tensors and wrong shapes (checked before the metadata)', () => {
    const data = new Uint8Array(24);
    expectSchemaError(rawSafetensors({ W: { dtype: 'F32', shape: [3, 2], data_offsets: [0, 24] } }, data), /no tensor "b"/);
    expectSchemaError(rawSafetensors({ W: { dtype: 'I32', shape: [3, 2], data_offsets: [0, 24] } }, data), /unsupported dtype "I32"/);
  });
});

describe('the CLI reading a Gaussian model\'s standardisation', () => {
  const meta = rbmFromSafetensors(file(gaussian())).metadata;

  it('returns the arrays', () => {
    expect(Array.from(readStandardisation(meta, 3, 'm.safetensors').std)).toEqual([1, 0.5, 2]);
  });

  it.each([
    [STD_MEAN_KEY, undefined, /model m\.safetensors: a Gaussian model needs metadata "standardize_mean"/],
    [STD_STD_KEY, '[1,0,1]', /model m\.safetensors: metadata "standardize_std" holds 0 at index 1/],
    [STD_STD_KEY, '[1,1]', /model m\.safetensors: metadata "standardize_std" holds 2 values but the model has 3/],
    [STD_MEAN_KEY, 'oops', /model m\.safetensors: metadata "standardize_mean" is not JSON/],
  ])('%s = %s is one line naming the key', (key, value, pattern) => {
    const m = { ...meta };
    if (value === undefined) delete m[key];
    else m[key] = value;
    expect(() => readStandardisation(m, 3, 'm.safetensors')).toThrow(CliError);
    expect(() => readStandardisation(m, 3, 'm.safetensors')).toThrow(pattern);
  });
});

describe('safetensorsDeclaredSize (reading a stream)', () => {
  it('is the whole file once the header has arrived', () => {
    const bytes = file(gaussian());
    const headerEnd = 8 + new DataView(bytes.buffer).getUint32(0, true);
    expect(safetensorsDeclaredSize(bytes.subarray(0, 7))).toBeUndefined();
    expect(safetensorsDeclaredSize(bytes.subarray(0, headerEnd - 1))).toBeUndefined();
    expect(safetensorsDeclaredSize(bytes.subarray(0, headerEnd))).toBe(bytes.length);
  });

  it('refuses a prefix that cannot be safetensors at once', () => {
    expect(() => safetensorsDeclaredSize(new Uint8Array(64))).toThrow(/header length 0 is too short/);
    expect(() => safetensorsDeclaredSize(new Uint8Array(64).fill(0xff))).toThrow(/exceeds the 100000000-byte limit/);
    expect(() => safetensorsDeclaredSize(rawSafetensors('[1, 2]', new Uint8Array(0)))).toThrow(/must be an object/);
  });
});
