// Seeded random mutations of valid files: the readers must either succeed or
// throw their documented error class — never another error, never hang.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IdxFormatError, parseIdx, readIdx } from '../../src/data/idx';
import { decodeSafetensors, SafetensorsFormatError } from '../../src/rbm/safetensors';
import { rbmFromSafetensors, rbmToSafetensors } from '../../src/rbm/model-file';
import { buildIdx, mulberry32 } from './helpers';

type Rand = () => number;

// One random mutation: flip bytes (biased toward the header), truncate, extend,
// overwrite a word with an extreme value, or change a digit in the header (so
// JSON stays valid and shapes/offsets are what goes wrong).
function mutate(src: Uint8Array, r: Rand, headerBytes: number): Uint8Array {
  const pick = (n: number) => Math.floor(r() * n);
  const kind = pick(6);
  if (kind === 5) {
    const out = src.slice();
    const digits: number[] = [];
    for (let i = 0; i < Math.min(headerBytes, out.length); i++) if (out[i] >= 0x30 && out[i] <= 0x39) digits.push(i);
    if (digits.length > 0) out[digits[pick(digits.length)]] = 0x30 + pick(10);
    return out;
  }
  if (kind === 0) return src.slice(0, pick(src.length));
  if (kind === 1) {
    const out = new Uint8Array(src.length + 1 + pick(64));
    out.set(src);
    for (let i = src.length; i < out.length; i++) out[i] = pick(256);
    return out;
  }
  const out = src.slice();
  if (kind === 2 && out.length >= 4) {
    const at = pick(out.length - 3);
    new DataView(out.buffer).setUint32(at, [0, 1, 0xffffffff, 0x7fffffff, pick(2 ** 32), out.length][pick(6)], r() < 0.5);
    return out;
  }
  const flips = 1 + pick(4);
  for (let f = 0; f < flips; f++) {
    const at = kind === 3 ? pick(Math.min(headerBytes, out.length)) : pick(out.length);
    if (r() < 0.5) out[at] ^= 1 << pick(8);
    else out[at] = pick(256);
  }
  return out;
}

function expectOnly(cls: new (...a: never[]) => Error, f: () => unknown): 'ok' | 'error' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`unexpected ${String(e)}`, { cause: e });
    return 'error';
  }
}

describe('fuzzing the readers', () => {
  it('safetensors: 4000 mutations only ever throw SafetensorsFormatError', () => {
    const r0 = mulberry32(1);
    const good = rbmToSafetensors({
      visible: 6,
      hidden: 4,
      W: Float32Array.from({ length: 24 }, () => r0() - 0.5),
      b: new Float32Array(6).fill(0.25),
      c: new Float32Array(4).fill(-1),
      metadata: { epochs: '5', seed: '1', visible: 'bernoulli' },
    });
    const headerBytes = 8 + new DataView(good.buffer).getUint32(0, true);
    const r = mulberry32(20240601);
    const seen = { ok: 0, error: 0 };
    const t0 = performance.now();
    for (let i = 0; i < 4000; i++) {
      const bytes = mutate(good, r, headerBytes);
      seen[expectOnly(SafetensorsFormatError, () => decodeSafetensors(bytes))]++;
      expectOnly(SafetensorsFormatError, () => rbmFromSafetensors(bytes));
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.error).toBeGreaterThan(1000);
    // Reported, not asserted: on a shared machine the time measures the machine, not the decoder.
    console.log(`safetensors fuzz: 4000 mutations in ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('IDX: 4000 plain mutations only ever throw IdxFormatError', () => {
    const good = buildIdx('i16', [5, 3, 2], Array.from({ length: 30 }, (_, i) => i * 37 - 500));
    const r = mulberry32(77);
    const seen = { ok: 0, error: 0 };
    for (let i = 0; i < 4000; i++) {
      const bytes = mutate(good, r, 16);
      seen[expectOnly(IdxFormatError, () => parseIdx(bytes))]++;
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.error).toBeGreaterThan(1000);
  });

  it('IDX: 400 gzipped mutations only ever reject with IdxFormatError', async () => {
    const gz = gzipSync(buildIdx('u8', [4, 8, 8], Array.from({ length: 256 }, (_, i) => i)));
    const r = mulberry32(5);
    let errors = 0;
    for (let i = 0; i < 400; i++) {
      const bytes = mutate(gz, r, 10);
      try {
        await readIdx(bytes);
      } catch (e) {
        if (!(e instanceof IdxFormatError)) throw new Error(`unexpected ${String(e)}`, { cause: e });
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(100);
  });
});
