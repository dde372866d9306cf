// The atomic writer with injected failures at each step (open, write, sync,
// rename): the previous file stays whole and no temp file is left behind.
// Also the supervisor's filter for Dawn's start-up warnings.
import { mkdtemp, open, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTempName, writeFileAtomic } from '../../src/cli/atomic-write';
import type { SaveFs } from '../../src/cli/atomic-write';
import { filterDawnWarnings } from '../../src/cli/supervise';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-atomic-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fail = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code });

/** Real file operations, with one step made to fail. */
function failingAt(step: 'open' | 'write' | 'sync' | 'rename', code: string): SaveFs {
  const wrap = (h: FileHandle): FileHandle => {
    if (step === 'write') {
      let calls = 0;
      const write = h.write.bind(h) as (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
      (h as { write: unknown }).write = async (b: Uint8Array, o: number, l: number) => {
        // Half the bytes land, then the disk is full.
        if (calls++ > 0) throw fail(code);
        return write(b, o, Math.max(1, Math.floor(l / 2)));
      };
    }
    if (step === 'sync') (h as { sync: unknown }).sync = async () => Promise.reject(fail(code));
    return h;
  };
  return {
    open: (async (...args: Parameters<typeof open>) => {
      if (step === 'open') throw fail(code);
      return wrap(await open(...args));
    }) as typeof open,
    rename: (async (...args: Parameters<typeof rename>) => {
      if (step === 'rename') throw fail(code);
      return rename(...args);
    }) as typeof rename,
  };
}

describe('writeFileAtomic', () => {
  it('writes the bytes', async () => {
    const path = join(dir, 'plain.bin');
    const bytes = new Uint8Array(100_000).map((_, i) => i % 251);
    await writeFileAtomic(path, bytes, 'plain.bin');
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);
  });

  it.each([
    ['open', 'EACCES', /permission denied/],
    ['write', 'ENOSPC', /no space left/],
    ['sync', 'EIO', /EIO/],
    ['rename', 'EROFS', /read-only/],
  ] as const)('a failing %s (%s) keeps the previous file and removes the temp file', async (step, code, message) => {
    const path = join(dir, `fail-${step}.bin`);
    await writeFile(path, 'previous contents');
    await expect(writeFileAtomic(path, new Uint8Array(50_000).fill(7), `--out ${path}`, failingAt(step, code))).rejects.toThrow(message);
    expect(await readFile(path, 'utf8')).toBe('previous contents');
    expect((await readdir(dir)).filter(isTempName)).toEqual([]);
  });

  it('names what it was writing and says the previous file is unchanged', async () => {
    const path = join(dir, 'named.bin');
    await expect(writeFileAtomic(path, new Uint8Array(10), '--filters named.bin', failingAt('write', 'ENOSPC'))).rejects.toThrow(
      /could not write --filters named\.bin: no space left.*previous file, if any, is unchanged/,
    );
  });

  it('writes through a symlink to its target, keeping the link', async () => {
    const target = join(dir, 'target.bin');
    const link = join(dir, 'link.bin');
    await writeFile(target, 'old');
    await symlink(target, link);
    await writeFileAtomic(link, new TextEncoder().encode('new'), 'link.bin');
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readFile(link, 'utf8')).toBe('new');
  });
});

describe("the supervisor's stderr filter", () => {
  const W1 = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n';
  const W2 = 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';

  /** Feeds `text` in pieces of `size` characters, as a pipe might deliver it. */
  function stream(text: string, size: number): string {
    let out = '';
    let rest = '';
    for (let i = 0; i < text.length; i += size) {
      const r = filterDawnWarnings(rest + text.slice(i, i + size));
      out += r.out;
      rest = r.rest;
    }
    return out + rest;
  }

  it.each([1, 7, 50, 10_000])('removes both warnings, even glued together, in pieces of %i characters', (size) => {
    const text = `${W1}${W2}${W1}webgpu-rbm: a real message\nWarning: something else stays\n`;
    expect(stream(text, size)).toBe('webgpu-rbm: a real message\nWarning: something else stays\n');
  });

  it('passes other output through at once (a progress bar is not held back)', () => {
    expect(filterDawnWarnings('epoch 1/5 [=====     ] 50%').out).toBe('epoch 1/5 [=====     ] 50%');
  });
});
