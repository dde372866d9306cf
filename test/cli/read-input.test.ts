// readInput, the CLI's bounded reader: regular files are size-checked before
// they are read, anything else is read incrementally and stopped at the cap or
// at what its header declares.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInput } from '../../src/cli/read-input';
import type { ReadInputOptions } from '../../src/cli/read-input';
import { CliError } from '../../src/cli/errors';
import { loadModel } from '../../src/cli/files';
import { rbmToSafetensors } from '../../src/rbm/model-file';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = (o: Partial<ReadInputOptions> = {}): ReadInputOptions => ({ label: 'input x', hint: 'pass a good file', maxBytes: 1000, kind: 'a test file', ...o });

async function failure(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CliError);
  return (e as Error).message;
}

describe('readInput', () => {
  it('reads a regular file within the cap', async () => {
    const path = join(dir, 'ok');
    await writeFile(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(await readInput(path, opts()))).toEqual([1, 2, 3]);
  });

  it('refuses a regular file over the cap before reading it', async () => {
    const path = join(dir, 'big');
    await writeFile(path, new Uint8Array(1001));
    expect(await failure(readInput(path, opts()))).toBe('input x: the file is 1001 bytes, more than the 1000 bytes a test file can be; pass a good file');
  });

  it('names a directory and a missing file', async () => {
    expect(await failure(readInput(dir, opts()))).toBe('input x: cannot read it (it is a directory); pass a good file');
    expect(await failure(readInput(join(dir, 'nope'), opts()))).toBe('input x: cannot read it (no such file); pass a good file');
  });

  it('stops reading /dev/zero at the cap', async () => {
    const message = await failure(readInput('/dev/zero', opts({ maxBytes: 3 * 2 ** 20 })));
    expect(message).toMatch(/^input x: read more than 3\.15 MB from a character device without reaching its end, .*pass a regular file/);
  });

  it('stops reading /dev/zero as soon as the declared size says so, or the format check throws', async () => {
    const declared = await failure(readInput('/dev/zero', opts({ maxBytes: 2 ** 30, declaredSize: () => 10 })));
    expect(declared).toMatch(/^input x: a character device gave more than the 10 bytes its header declares/);
    const e = await readInput('/dev/zero', opts({ maxBytes: 2 ** 30, declaredSize: () => { throw new RangeError('not this format'); } })).catch((x: unknown) => x);
    expect((e as Error).message).toBe('not this format');
  });

  it('reads a FIFO to its end, growing with the data', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const data = Uint8Array.from({ length: 3 * 2 ** 20 + 5 }, (_, i) => i % 251);
    const [bytes] = await Promise.all([readInput(fifo, opts({ maxBytes: 2 ** 30 })), writeFile(fifo, data)]);
    expect(bytes.length).toBe(data.length);
    expect(bytes[data.length - 1]).toBe(data[data.length - 1]);
  });

  it('reads /dev/null as an empty input', async () => {
    expect((await readInput('/dev/null', opts())).length).toBe(0);
  });
});

describe('loadModel', () => {
  it("checks W against the device's buffer limit before decoding anything", () => {
    const device = { limits: { maxStorageBufferBindingSize: 1000, maxBufferSize: 4000 } } as unknown as GPUDevice;
    const bytes = rbmToSafetensors({ visible: 30, hidden: 10, W: new Float32Array(300), b: new Float32Array(30), c: new Float32Array(10) });
    expect(() => loadModel(device, 'm.safetensors', bytes)).toThrow(CliError);
    expect(() => loadModel(device, 'm.safetensors', bytes)).toThrow(
      'model m.safetensors: 30 visible units × 10 hidden units needs 1.2 kB of GPU storage (the weights W) but this device allows 1 kB per buffer; use a smaller model',
    );
  });
});
