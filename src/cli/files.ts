// File checks done before any GPU work, so a typo in an output path fails in
// a second instead of after an hour of training.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RBM } from '../rbm/model';
import { SafetensorsFormatError } from '../rbm/safetensors';
import { CliError, messageOf, UsageError } from './errors';

/** Makes the parent folder of an output file and rejects a path that is a folder. */
export async function prepareOutput(path: string, flag: string, extension: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory()) throw new UsageError(`${flag} ${path} is a directory; pass a file name such as ${path.replace(/\/$/, '')}/out${extension}`);
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (e) {
    throw new CliError(`${flag} ${path}: cannot create its folder (${messageOf(e)}); choose a writable location`);
  }
}

/** Reads a model file's bytes (before any GPU work, so a typo fails fast). */
export async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : messageOf(e);
    throw new CliError(`model ${path}: cannot read it (${why}); pass a .safetensors file written by "webgpu-rbm train"`);
  }
}

/** Loads a model file's bytes onto `device`, with one-line errors for files that are not RBMs. */
export function loadModel(device: GPUDevice, path: string, bytes: Uint8Array): { model: RBM; metadata: Record<string, string> } {
  try {
    return RBM.fromSafetensors(device, bytes);
  } catch (e) {
    if (e instanceof SafetensorsFormatError || e instanceof RangeError) {
      throw new CliError(`model ${path}: ${messageOf(e).replace(/\.$/, '')}`);
    }
    throw e;
  }
}
