// Reading the CLI's input files (model files, IDX and .npy data) with bounded memory.
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

// Stats and opens an input: a directory, a missing file or a regular file over the cap fails here.
async function openChecked(path: string, o: Omit<ReadInputOptions, 'declaredSize'>): Promise<{ st: Stats; fh: FileHandle; max: number }> {
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
  try {
    return { st, fh: await open(path, 'r'), max };
  } catch (e) {
    throw readError(o, e);
  }
}

/** An input opened for incremental reading (see openInput). */
export interface InputChunks {
  /** The file's blocks in order; the file is closed when they end or the consumer stops early. */
  chunks: AsyncGenerator<Uint8Array>;
  /** The size of a regular file (undefined for pipes and devices). */
  size?: number;
}

/**
 * Opens an input for incremental reading, with readInput's checks (a
 * directory, a missing file, a regular file over the cap fail at once). The
 * blocks are read as the consumer asks for them, so its parser can stop at a
 * bad header or at the size the header declares; a non-regular input is
 * stopped past the cap. Read errors become one-line CliErrors.
 */
export async function openInput(path: string, o: Omit<ReadInputOptions, 'declaredSize'>): Promise<InputChunks> {
  const { st, fh, max } = await openChecked(path, o);
  const what = st.isFile() ? 'the file' : describeKind(st);
  async function* blocks(): AsyncGenerator<Uint8Array> {
    let total = 0;
    try {
      for (;;) {
        // A fresh block each time: the consumer may hold on to the previous one.
        const block = new Uint8Array(STREAM_CHUNK);
        let bytesRead: number;
        try {
          ({ bytesRead } = await fh.read(block, 0, STREAM_CHUNK, null));
        } catch (e) {
          throw readError(o, e);
        }
        if (bytesRead === 0) return;
        total += bytesRead;
        if (total > max) {
          throw new CliError(
            `${o.label}: read more than ${formatBytes(max)} from ${what} without reaching its end, more than ${o.kind} can be; pass a regular file (${o.hint})`,
          );
        }
        yield block.subarray(0, bytesRead);
      }
    } finally {
      await fh.close().catch(() => {});
    }
  }
  return { chunks: blocks(), size: st.isFile() ? st.size : undefined };
}

/** Reads a whole input file within its cap; see the file comment. Errors are one-line CliErrors (or what declaredSize throws). */
export async function readInput(path: string, o: ReadInputOptions): Promise<Uint8Array> {
  const { st, fh, max } = await openChecked(path, o);
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
