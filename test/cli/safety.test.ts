// "Never lose work", end to end through the built command: outputs checked
// before any work, atomic saves under an injected full disk, signals that stop
// and save (and a second that quits), a reader that goes away, a supervisor
// killed with SIGKILL, quiet start-up and byte-identical files. Every wait is
// on a condition (a line on stdout, a file appearing), never on a clock.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rbmFromSafetensors } from '../../src/rbm/model-file';
import { isTempName } from '../../src/cli/atomic-write';
import { buildCli, CLI, cliMessages, ROOT, runCli, writeIdxImages } from './helpers';
import type { CliRun } from './helpers';

let dir: string;
/** 100 random 6×6 images: one batch of 100 per epoch, so an epoch is a single update. */
let tiny: string;
/** A model trained once, the "previous file" the failing runs must not touch. */
let previous: string;
let previousBytes: Buffer;

/** Arguments of a run that never ends by itself: only a signal stops it. */
const endless = (out: string): string[] => [
  'train', '--data', tiny, '--hidden', '8', '--batch', '100', '--epochs', '2000000000', '--out', out,
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-safety-'));
  tiny = join(dir, 'tiny-images-idx3-ubyte');
  await writeIdxImages(tiny, 100, 6, 6, 7);
  await buildCli();
  previous = join(dir, 'previous.safetensors');
  const r = await runCli(['train', '--data', tiny, '--hidden', '8', '--epochs', '1', '--out', previous]);
  expect(r.code, r.stderr).toBe(0);
  previousBytes = await readFile(previous);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  done: Promise<CliRun>;
  /** Resolves once stdout matches `pattern` (rejects if the process ends first). */
  waitFor(pattern: RegExp): Promise<void>;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void; reject: (e: Error) => void }> = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.pattern.test(stdout)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`ended (code ${code}) before stdout matched ${w.pattern}:\n${stdout}\n${stderr}`));
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    child,
    done,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        check();
      }),
  };
}

async function tempLeftovers(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter(isTempName);
}

async function copyOfPrevious(name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, previousBytes);
  return path;
}

describe('output paths are checked before any work (exit 2)', () => {
  it.each([
    ['--out equal to --data', (_out: string) => ['train', '--data', tiny, '--out', tiny], /--out .* same file as the input --data/],
    ['--filters equal to --out', (o: string) => ['train', '--data', tiny, '--out', o, '--filters', o], /--filters .* same file as --out/],
    ['--samples equal to --out through another spelling', (o: string) => ['train', '--data', tiny, '--out', o, '--samples', join(dir, '.', 'x', '..', 'out1.safetensors')], /--samples .* same file as --out/],
    ['sample --out equal to the model', () => ['sample', previous, '--out', previous], /--out .* same file as the input MODEL/],
    ['--out a directory', () => ['train', '--data', tiny, '--out', dir], /names a directory/],
    ['--out a folder name that does not exist yet', () => ['train', '--data', tiny, '--out', join(dir, 'not-yet') + '/'], /names a directory; pass a file name such as/],
    ['--out below a file', () => ['train', '--data', tiny, '--out', join(tiny, 'm.safetensors')], /a part of the path is a file, not a folder/],
    ['--out too long once the temp suffix is added', () => ['train', '--data', tiny, '--out', join(dir, 'x'.repeat(240) + '.safetensors')], /file name is too long/],
    ['--out a device', () => ['train', '--data', tiny, '--out', '/dev/null'], /not a regular file/],
    ['--out where no file can be created', () => ['train', '--data', tiny, '--out', '/proc/self/model.safetensors'], /cannot write in/],
  ])('%s', async (_name, args, message) => {
    const out = join(dir, 'out1.safetensors');
    const before = await readFile(tiny);
    const r = await runCli(args(out));
    expect(r.code, r.stderr).toBe(2);
    expect(cliMessages(r)).toHaveLength(1);
    expect(cliMessages(r)[0]).toMatch(message);
    // Nothing was trained or written: no "training …" line, inputs untouched.
    expect(r.stdout).not.toMatch(/training|wrote/);
    expect(await readFile(tiny)).toEqual(before);
    expect(await readFile(previous)).toEqual(previousBytes);
  });

  it('makes a missing output folder', async () => {
    const out = join(dir, 'new', 'deeper', 'm.safetensors');
    const r = await runCli(['train', '--data', tiny, '--hidden', '4', '--epochs', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect((await stat(out)).size).toBeGreaterThan(0);
  });
});

describe('atomic saves', () => {
  it('a save that fails half-way (full disk) keeps the previous model whole and leaves no temp file', async () => {
    const out = await copyOfPrevious('full-disk.safetensors');
    const r = await runCli(['train', '--data', tiny, '--hidden', '8', '--epochs', '2', '--seed', '9', '--out', out], 120_000, { WEBGPU_RBM_FAULT: 'enospc' });
    expect(r.code, r.stderr).toBe(1);
    expect(cliMessages(r)).toHaveLength(1);
    expect(cliMessages(r)[0]).toMatch(/could not write --out .*no space left.*previous file, if any, is unchanged/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await readFile(out)).toEqual(previousBytes);
    expect(await tempLeftovers(dir)).toEqual([]);
  });

  it('the same seed and settings write byte-identical files', async () => {
    const a = join(dir, 'same-a.safetensors');
    const b = join(dir, 'same-b.safetensors');
    for (const out of [a, b]) {
      const r = await runCli(['train', '--data', tiny, '--hidden', '8', '--epochs', '2', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await readFile(a)).toEqual(await readFile(b));
  });
});

describe('sizes checked before any work', () => {
  it('--epochs that would wrap the RNG counter: exit 2 naming --epochs and its largest value', async () => {
    const r = await runCli(['train', '--data', tiny, '--batch', '10', '--epochs', '2147483647', '--out', join(dir, 'wrap.safetensors')]);
    expect(r.code, r.stderr).toBe(2);
    expect(cliMessages(r)).toEqual([expect.stringMatching(/--epochs 2147483647 × 10 updates per epoch would wrap .* at most --epochs 429496729$/)]);
    expect(r.stdout).not.toMatch(/training/);
  });
});

describe('divergence', () => {
  it('a diverging run stops with exit 1, names the fix, and leaves the previous model at --out', async () => {
    const out = await copyOfPrevious('diverged.safetensors');
    const r = await runCli(['train', '--data', tiny, '--visible', 'gaussian', '--lr', '100', '--hidden', '8', '--epochs', '200', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(cliMessages(r)).toHaveLength(1);
    expect(cliMessages(r)[0]).toMatch(/training diverged in epoch \d+ .*NaN or infinite; lower --lr \(it was 100; try --lr 10\)\. .* was not written/);
    expect(await readFile(out)).toEqual(previousBytes);
    expect(await tempLeftovers(dir)).toEqual([]);
  });
});

describe('a lost device', () => {
  it('saves the last completed epoch to --out, says so, exits 1', async () => {
    const out = await copyOfPrevious('lost.safetensors');
    const r = await runCli(['train', '--data', tiny, '--hidden', '8', '--epochs', '50', '--out', out], 600_000, { WEBGPU_RBM_FAULT: 'lose-device' });
    expect(r.code, r.stderr).toBe(1);
    expect(cliMessages(r)).toEqual([expect.stringMatching(/the GPU device was lost \(.*\); saved the model after epoch 1 to .*lost\.safetensors/)]);
    const file = rbmFromSafetensors(new Uint8Array(await readFile(out)));
    expect(file.metadata).toMatchObject({ epochs: '1', cancelled: 'true', device_lost: 'true' });
    expect(await tempLeftovers(dir)).toEqual([]);
  });
});

describe('signals stop after the current update and save', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s: exit %i, the model written and loadable', async (signal, code) => {
    const out = join(dir, `${signal}.safetensors`);
    const run = startCli(endless(out));
    await run.waitFor(/epoch 1\//);
    run.child.kill(signal);
    const r = await run.done;
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(`${signal} received; stopping after the current update`);
    const file = rbmFromSafetensors(new Uint8Array(await readFile(out)));
    expect(file.metadata.cancelled).toBe('true');
    expect(Number(file.metadata.epochs)).toBeGreaterThanOrEqual(1);
    expect(await tempLeftovers(dir)).toEqual([]);
  });

  it('a signal before the first update finishes never replaces the previous model with an untrained one', async () => {
    const out = await copyOfPrevious('early.safetensors');
    const run = startCli(endless(out));
    // The "training …" line comes as the GPU opens, before tile tuning and the first update.
    await run.waitFor(/^training /m);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(143);
    const bytes = await readFile(out);
    if (/nothing written: no update had finished/.test(r.stdout)) {
      expect(bytes).toEqual(previousBytes);
    } else {
      // On a GPU fast enough to finish an update first, what is written holds that update.
      expect(r.stdout).toMatch(/stopped after \d+ complete epoch\(s\) and [1-9]\d* updates/);
      expect(() => rbmFromSafetensors(new Uint8Array(bytes))).not.toThrow();
    }
    expect(await tempLeftovers(dir)).toEqual([]);
  });

  it('a second signal quits at once; the file at --out is the previous one or a whole new one', async () => {
    const out = await copyOfPrevious('twice.safetensors');
    const run = startCli(endless(out));
    await run.waitFor(/epoch 1\//);
    run.child.kill('SIGTERM');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(143);
    const bytes = await readFile(out);
    expect(() => rbmFromSafetensors(new Uint8Array(bytes))).not.toThrow();
    expect(await tempLeftovers(dir)).toEqual([]);
  });

  it('SIGKILL of the command still saves: the worker sees its supervisor die and stops like SIGHUP', async () => {
    const out = join(dir, 'orphan.safetensors');
    const run = startCli(endless(out));
    await run.waitFor(/epoch 1\//);
    run.child.kill('SIGKILL');
    await run.done;
    // The worker saves on its own; wait for the file (a hang ends at the test's timeout).
    let file: ReturnType<typeof rbmFromSafetensors> | undefined;
    while (!file) {
      const bytes = await readFile(out).catch(() => undefined);
      if (bytes) file = rbmFromSafetensors(new Uint8Array(bytes));
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(file.metadata.cancelled).toBe('true');
  });

  it('SIGINT while sampling quits with 130 and leaves the previous PNG', async () => {
    const png = join(dir, 'samples.png');
    await writeFile(png, 'previous');
    const run = startCli(['sample', previous, '--chains', '10', '--steps', '10000000', '--out', png]);
    await run.waitFor(/^sampling /m);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(await readFile(png, 'utf8')).toBe('previous');
  });
});

describe('output streams', () => {
  it('a reader that closes stdout after one line (| head -1) does not stop the run', async () => {
    const out = join(dir, 'epipe.safetensors');
    const run = startCli(['train', '--data', tiny, '--hidden', '8', '--epochs', '3', '--out', out]);
    await run.waitFor(/\n/);
    // Both readers go away, as with `… 2>&1 | head -1`.
    run.child.stdout!.destroy();
    run.child.stderr!.destroy();
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(Number(rbmFromSafetensors(new Uint8Array(await readFile(out))).metadata.epochs)).toBe(3);
  });

  it("Dawn's limit warnings never reach the terminal", async () => {
    const r = await runCli(['train', '--data', tiny, '--hidden', '4', '--epochs', '1', '--out', join(dir, 'quiet.safetensors')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/artificially reduced/);
  });
});
