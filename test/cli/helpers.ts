// Builds the CLI once per test file and runs it as a child process, the way a
// user would: real argv, real exit codes, real stdout/stderr.
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Below dist/ like the real build, so the bundled assets/ resolve the same way. */
export const CLI = `${ROOT}dist/cli-test/webgpu-rbm.js`;

let built: Promise<void> | undefined;

/** `vite build --config vite.cli.config.ts` into dist/cli-test (once per file). */
export function buildCli(): Promise<void> {
  built ??= promisify(execFile)(
    process.execPath,
    [`${ROOT}node_modules/vite/bin/vite.js`, 'build', '--config', 'vite.cli.config.ts', '--outDir', 'dist/cli-test'],
    { cwd: ROOT },
  ).then(() => undefined);
  return built;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with `args`; never rejects (the exit code is the result). The timeout is a hang ceiling, not a speed bound. */
export function runCli(args: string[], timeoutMs = 600_000, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The JSON object on the last line of stdout (the --json contract). */
export function lastJson(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

/** The CLI's own messages on stderr (Dawn may add "Warning:" lines of its own). */
export function cliMessages(run: CliRun): string[] {
  return run.stderr.split('\n').filter((l) => l.startsWith('webgpu-rbm:'));
}

/** A failure as the brief demands: exit `code`, one clear line naming the problem, no stack trace. */
export function expectCleanFailure(run: CliRun, code: number, ...mentions: RegExp[]): void {
  expect(run.code, run.stderr).toBe(code);
  const messages = cliMessages(run);
  expect(messages, run.stderr).toHaveLength(1);
  for (const m of mentions) expect(messages[0]).toMatch(m);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

/** Writes `count` random u8 images of height×width as an IDX file (gzipped when the name ends in .gz). */
export async function writeIdxImages(path: string, count: number, height: number, width: number, seed = 1): Promise<void> {
  const header = new DataView(new ArrayBuffer(16));
  header.setUint32(0, 0x00000803, false);
  header.setUint32(4, count, false);
  header.setUint32(8, height, false);
  header.setUint32(12, width, false);
  const body = new Uint8Array(count * height * width);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < body.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    body[i] = (s >>> 0) % 256;
  }
  const bytes = new Uint8Array(16 + body.length);
  bytes.set(new Uint8Array(header.buffer), 0);
  bytes.set(body, 16);
  await writeFile(path, path.endsWith('.gz') ? gzipSync(bytes) : bytes);
}
