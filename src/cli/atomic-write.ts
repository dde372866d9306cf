// Every file the CLI writes goes through here: bytes go to a temp file in the
// same directory, are fsynced, and the temp file is renamed over the target.
// rename(2) within one file system is atomic, so a crash, a signal or a full
// disk at any moment leaves either the previous file or the new one, whole.
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError, messageOf } from './errors';

/** The file operations a save uses; tests pass failing ones to prove a failed save keeps the old file. */
export interface SaveFs {
  open: typeof open;
  rename: typeof rename;
}

const REAL_FS: SaveFs = { open, rename };

/** Temp files being written right now: a forced exit removes them (see removeTempFilesSync). */
const pending = new Set<string>();

/** `.name.<pid>.<random>.tmp` beside `path`: same directory, so the rename never crosses file systems. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** True for the names tempPathFor makes (tests look for leftovers). */
export function isTempName(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(name);
}

/**
 * Writes `bytes` to `path` atomically. On failure the temp file is removed,
 * `path` is untouched, and the error says what went wrong (a full disk, no
 * permission) and names `what` (e.g. "--out model.safetensors").
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array, what: string, fs: SaveFs = faultInjected() ?? REAL_FS): Promise<void> {
  // Through a symlink to its target: the user's link stays a link.
  const path = await realpath(file).catch(() => file);
  const temp = tempPathFor(path);
  pending.add(temp);
  try {
    const handle = await fs.open(temp, 'wx', 0o666);
    try {
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
    pending.delete(temp);
    await syncDirectory(dirname(path));
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    pending.delete(temp);
    throw new CliError(`could not write ${what}: ${describeWriteError(e)}; the previous file, if any, is unchanged`);
  }
}

/** Makes the rename itself durable (a crash right after it keeps the new name). Best effort: not every file system allows it. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}

/** Removes the temp files of saves in progress; for an exit that cannot wait for them. */
export function removeTempFilesSync(): void {
  for (const temp of pending) {
    try {
      unlinkSync(temp);
    } catch {
      // Already renamed or never created.
    }
  }
  pending.clear();
}

export function describeWriteError(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOSPC':
      return 'no space left on the device; free some space or choose another location';
    case 'EDQUOT':
      return 'disk quota exceeded; free some space or choose another location';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied; choose a writable location';
    case 'EROFS':
      return 'the file system is read-only; choose a writable location';
    case 'ENOENT':
      return 'its folder no longer exists';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENAMETOOLONG':
      return 'the file name is too long; choose a shorter one';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    default:
      return messageOf(e).replace(/\.$/, '');
  }
}

/**
 * WEBGPU_RBM_FAULT=enospc makes every save fail half-way with ENOSPC, as a
 * full disk would: the CLI tests use it to prove a failed save loses nothing.
 */
function faultInjected(): SaveFs | undefined {
  if (process.env.WEBGPU_RBM_FAULT !== 'enospc') return undefined;
  return {
    rename,
    open: (async (...args: Parameters<typeof open>) => {
      const handle = await open(...args);
      const write = handle.write.bind(handle);
      let written = 0;
      (handle as { write: unknown }).write = async (buffer: Uint8Array, offset = 0, length = buffer.length - offset) => {
        if (written > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        const half = Math.max(1, Math.floor(length / 2));
        written += half;
        return write(buffer, offset, half);
      };
      return handle;
    }) as typeof open,
  };
}
