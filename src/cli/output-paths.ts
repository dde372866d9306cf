// Output paths are checked before any data is read or any GPU work starts, so
// a typo, a read-only folder or an output that would overwrite an input fails
// in a second with exit 2, not after an hour of training.
import { mkdir, open, realpath, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeWriteError, tempPathFor } from './atomic-write';
import { UsageError } from './errors';

export interface OutputPath {
  /** The flag it came from, e.g. "--out". */
  flag: string;
  path: string;
  /** The usual extension, for the example in a "this is a directory" error. */
  extension: string;
}

export interface InputPath {
  flag: string;
  path: string;
}

/** What a path will name once written: the resolved file (through symlinks) and, when it exists, its inode. */
interface Identity {
  key: string;
  inode?: string;
}

async function identityOf(path: string, st: Stats | undefined): Promise<Identity> {
  const real = await realpath(path).catch(async () => join(await realpath(dirname(path)).catch(() => resolve(dirname(path))), basename(path)));
  return { key: real, inode: st ? `${st.dev}:${st.ino}` : undefined };
}

const same = (a: Identity, b: Identity): boolean => a.key === b.key || (a.inode !== undefined && a.inode === b.inode);

/**
 * Checks every output: not a directory or device, its folder exists (made if
 * missing) and takes new files, and it is neither an input nor another output
 * of the same command. Throws a UsageError (exit 2) naming the flag and the fix.
 */
export async function checkOutputPaths(outputs: OutputPath[], inputs: InputPath[] = []): Promise<void> {
  const seen: Array<{ flag: string; path: string; id: Identity }> = [];
  for (const input of inputs) {
    const st = await stat(input.path).catch(() => undefined);
    if (st) seen.push({ flag: input.flag, path: input.path, id: await identityOf(input.path, st) });
  }
  const inputCount = seen.length;
  for (const o of outputs) {
    if (o.path.trim() === '') throw new UsageError(`${o.flag} needs a file name`);
    const st = await stat(o.path).catch(() => undefined);
    if (st?.isDirectory() || /[\\/]$/.test(o.path)) {
      throw new UsageError(`${o.flag} ${o.path} names a directory; pass a file name such as ${join(o.path, `out${o.extension}`)}`);
    }
    if (st && !st.isFile()) {
      throw new UsageError(`${o.flag} ${o.path} is not a regular file (a device, pipe or socket); pass a file name such as out${o.extension}`);
    }
    const dir = dirname(o.path);
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a part of the path is a file, not a folder' : describeWriteError(e);
      throw new UsageError(`${o.flag} ${o.path}: cannot create its folder ${dir} (${why})`);
    }
    await probeWritable(dir, o);
    const id = await identityOf(o.path, st);
    const clash = seen.findIndex((x) => same(x.id, id));
    if (clash >= 0) {
      const other = seen[clash];
      const what = clash < inputCount ? `the input ${other.flag} ${other.path}` : `${other.flag} ${other.path}`;
      throw new UsageError(`${o.flag} ${o.path} is the same file as ${what}; writing it would destroy that file. Choose another ${o.flag} path`);
    }
    seen.push({ flag: o.flag, path: o.path, id });
  }
}

/**
 * Creates and removes the very temp file a save will use (same folder, same
 * name length): the only check that also catches read-only mounts, ACLs and
 * names that are too long once the temp suffix is added.
 */
async function probeWritable(dir: string, o: OutputPath): Promise<void> {
  const probe = tempPathFor(o.path);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'files cannot be created there' : describeWriteError(e);
    throw new UsageError(`${o.flag} ${o.path}: cannot write in ${dir} (${why})`);
  }
  await unlink(probe).catch(() => undefined);
}
