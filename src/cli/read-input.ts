// Reading the CLI's input files (model files, IDX data) with bounded memory.
//
// A regular file is stat'ed first: a directory, or a file larger than the cap
// for its kind, fails at once with one line. Anything else (a FIFO, a character
// device such as /dev/zero, /dev/stdin, a socket) has no size to check, so it is
// read incrementally and judged as it arrives: `declaredSize` reads the
// content's own header (safetensors' header length and offsets, IDX's
// dimensions) and reading stops with an error as soon as the prefix is not that
// format, or the input runs past what its header declares or past the cap.
// `webgpu-rbm eval /dev/zero` therefore fails after the first block it reads.
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { totalmem } from 'node:os';
import { formatBytes, setHostMemoryBudget } from '../index';
import { CliError, messageOf } from './errors';

/**
 * The most bytes one Uint8Array holds in Node (2^32 − 1 for Node 20's V8);
 * every cap below is at most this, so no read can fail with "Invalid typed array length".
 */
export const MAX_READ_BYTES = 2 ** 32 - 1;

export interface ReadInputOptions {
  /** How messages name the input: `model out/m.safetensors`, `--data digits.idx`. */
  label: string;
  /** What to pass instead; ends every message. */
  hint: string;
  /** The most bytes accepted (capped at MAX_READ_BYTES). */
  maxBytes: number;
  /** What the cap is for, in messages: "a model file". */
  kind: string;
  /**
   * For inputs without a size (pipes, devices): the total size the content's
   * header declares, from the bytes read so far; undefined while too few have
   * arrived. It may throw (a format error) to reject the input early.
   */
  declaredSize?: (head: Uint8Array) => number | undefined;
}

/** Bytes read from a non-regular file per read call. */
const STREAM_CHUNK = 1 << 20;

function describeKind(st: Stats): string {
  if (st.isFIFO()) return 'a pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function readError(o: ReadInputOptions, e: unknown): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : messageOf(e);
  return new CliError(`${o.label}: cannot read it (${why}); ${o.hint}`);
}

/** Reads a whole input file within its cap; see the file comment. Errors are one-line CliErrors (or what declaredSize throws). */
export async function readInput(path: string, o: ReadInputOptions): Promise<Uint8Array> {
  const max = Math.min(o.maxBytes, MAX_READ_BYTES);
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw readError(o, e);
  }
  if (st.isDirectory()) throw new CliError(`${o.label}: cannot read it (it is a directory); ${o.hint}`);
  if (st.isFile() && st.size > max) {
    // Exact counts when rounding would make the two look equal.
    const [size, cap] = formatBytes(st.size) === formatBytes(max) ? [`${st.size} bytes`, `${max} bytes`] : [formatBytes(st.size), formatBytes(max)];
    throw new CliError(`${o.label}: the file is ${size}, more than the ${cap} ${o.kind} can be; ${o.hint}`);
  }
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw readError(o, e);
  }
  try {
    return st.isFile() ? await readRegular(fh, st.size, max, o) : await readStream(fh, describeKind(st), max, o);
  } catch (e) {
    if (e instanceof CliError || !(e as NodeJS.ErrnoException).code) throw e;
    throw readError(o, e);
  } finally {
    await fh.close().catch(() => {});
  }
}

// The stat'ed size, read in blocks (readFile stops at 2 GiB); a file that grew since is refused.
async function readRegular(fh: FileHandle, size: number, max: number, o: ReadInputOptions): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await fh.read(out, at, Math.min(size - at, 1 << 30), at);
    if (bytesRead === 0) return out.subarray(0, at); // shrank while we read
    at += bytesRead;
  }
  const probe = await fh.read(new Uint8Array(1), 0, 1, size);
  if (probe.bytesRead > 0) {
    throw new CliError(`${o.label}: the file grew while it was read (past ${formatBytes(size)}); wait until it is complete (cap ${formatBytes(max)})`);
  }
  return out;
}

// Reads until EOF, judging the prefix by its declared size and stopping at the cap.
async function readStream(fh: FileHandle, what: string, max: number, o: ReadInputOptions): Promise<Uint8Array> {
  let buf = new Uint8Array(STREAM_CHUNK);
  let len = 0;
  let declared: number | undefined;
  for (;;) {
    const room = buf.length - len;
    const { bytesRead } = await fh.read(buf, len, Math.min(room, STREAM_CHUNK), null);
    if (bytesRead === 0) return buf.subarray(0, len);
    len += bytesRead;
    if (declared === undefined && o.declaredSize) declared = o.declaredSize(buf.subarray(0, len));
    if (declared !== undefined && len > declared) {
      throw new CliError(
        `${o.label}: ${what} gave more than the ${declared} bytes its header declares; the data has trailing bytes or the header is wrong; ${o.hint}`,
      );
    }
    if (len > max) {
      throw new CliError(
        `${o.label}: read more than ${formatBytes(max)} from ${what} without reaching its end, more than ${o.kind} can be; pass a regular file (${o.hint})`,
      );
    }
    if (len === buf.length) {
      // Grow geometrically as data actually arrives (a header's claim alone allocates nothing), up to
      // what the header declares plus one byte (to see trailing data), never past the cap.
      const target = Math.min(2 * buf.length, declared !== undefined ? declared + 1 : Infinity, max + 1);
      const next = new Uint8Array(Math.max(target, len + 1));
      next.set(buf.subarray(0, len));
      buf = next;
    }
  }
}

let budgetSet = false;

/**
 * The CLI's host memory budget for derived arrays (kept samples, chain states,
 * pixels): a quarter of this machine's memory, at least 1 GiB. Sets the
 * library's budget (setHostMemoryBudget) the first time; returns it.
 */
export function useCliHostBudget(): number {
  const budget = Math.max(2 ** 30, Math.floor(totalmem() / 4));
  if (!budgetSet) {
    setHostMemoryBudget(budget);
    budgetSet = true;
  }
  return budget;
}
