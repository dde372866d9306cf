// Dawn's native code prints two "Warning: max… artificially reduced" lines on
// file descriptor 2 when it opens some Vulkan drivers (lavapipe among them);
// Node cannot redirect a native write. So a GPU command runs as a child of a
// small supervisor that passes the child's stderr through with those lines
// removed. The supervisor also forwards SIGINT/SIGTERM/SIGHUP exactly once
// (the child has its own process group, so Ctrl-C reaches it only through
// us), and a pipe on fd 3 tells the child if the supervisor dies.
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { TTY_COLUMNS_ENV, writeStderr } from './output';

const CHILD_ENV = 'WEBGPU_RBM_SUPERVISED';
const LIFELINE_FD = 3;

/** Dawn's limit warnings, whole (the second one sometimes follows the first without a newline). */
const DAWN_WARNING = /Warning: max\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\n?/g;
const DAWN_WARNING_AT_END = /^Warning: max\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;
const WARNING_HEAD = 'Warning: max';

export function isSupervisedChild(): boolean {
  return process.env[CHILD_ENV] === '1';
}

/** Whether to run `argv` under a supervisor: GPU commands, unless already supervised or turned off. */
export function wantsSupervisor(argv: string[]): boolean {
  const gpuCommand = ['train', 'sample', 'eval', 'transform', 'classify', 'inpaint'].includes(argv[0] ?? '');
  const help = argv.some((a) => a === '--help' || a === '-h');
  return gpuCommand && !help && !isSupervisedChild() && process.env.WEBGPU_RBM_NO_SUPERVISOR !== '1';
}

/**
 * Removes Dawn's warnings from stderr text as it streams: returns what can be
 * written now and what must wait for more bytes (a warning cut mid-way).
 */
export function filterDawnWarnings(text: string): { out: string; rest: string } {
  // A warning that ends the text may still get its newline: wait for the next byte.
  const last = text.lastIndexOf(WARNING_HEAD);
  if (last >= 0 && DAWN_WARNING_AT_END.test(text.slice(last))) {
    return { out: text.slice(0, last).replace(DAWN_WARNING, ''), rest: text.slice(last) };
  }
  const cleaned = text.replace(DAWN_WARNING, '');
  const open = cleaned.lastIndexOf(WARNING_HEAD);
  if (open >= 0 && !cleaned.includes('\n', open)) return { out: cleaned.slice(0, open), rest: cleaned.slice(open) };
  for (let k = Math.min(WARNING_HEAD.length - 1, cleaned.length); k > 0; k--) {
    if (cleaned.endsWith(WARNING_HEAD.slice(0, k))) return { out: cleaned.slice(0, -k), rest: cleaned.slice(-k) };
  }
  return { out: cleaned, rest: '' };
}

/** Runs this CLI again as a supervised child with `argv`; resolves to the exit code to end with. */
export function runSupervised(argv: string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_ENV]: '1' };
  if (process.stderr.isTTY) env[TTY_COLUMNS_ENV] = String(process.stderr.columns || 80);
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    stdio: ['inherit', 'inherit', 'pipe', 'pipe'],
    detached: true,
    env,
  });
  const forward = (s: NodeJS.Signals): void => {
    child.kill(s);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, forward);
  let pending = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    const { out, rest } = filterDawnWarnings(pending + chunk);
    pending = rest;
    if (out) writeStderr(out);
  });
  return new Promise((resolve) => {
    child.on('error', (e) => {
      writeStderr(`webgpu-rbm: could not start the worker process (${e.message})\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      for (const s of signals) process.removeListener(s, forward);
      if (pending) writeStderr(pending.replace(DAWN_WARNING, ''));
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

let goneHandler: (() => void) | undefined;
let lifelineStarted = false;

/**
 * In the child, first thing: watches the supervisor's end of fd 3. If it
 * closes (the supervisor was killed), the current handler runs (a command's
 * SignalGuard treats it as SIGHUP); with none, nothing is in progress and the
 * child ends at once with 129, so it never runs on unsupervised.
 */
export function startLifeline(): void {
  if (!isSupervisedChild() || lifelineStarted) return;
  lifelineStarted = true;
  let socket: Socket;
  try {
    socket = new Socket({ fd: LIFELINE_FD, readable: true, writable: false });
  } catch {
    return;
  }
  socket.unref();
  let fired = false;
  const gone = (): void => {
    if (fired) return;
    fired = true;
    if (goneHandler) goneHandler();
    else process.exit(129);
  };
  socket.on('end', gone);
  socket.on('close', gone);
  socket.on('error', gone);
  socket.resume();
}

/** Routes the supervisor's death to `onGone` until the returned function is called. */
export function watchSupervisor(onGone: () => void): () => void {
  goneHandler = onGone;
  return () => {
    if (goneHandler === onGone) goneHandler = undefined;
  };
}
