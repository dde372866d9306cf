// File checks done before any GPU work, so a typo in an output path fails in
// a second instead of after an hour of training.
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeSizeLimit, DeviceLimitError, isStackSafetensors, RBM, SAFETENSORS_MAX_HEADER, SafetensorsFormatError, safetensorsDeclaredSize } from '../index';
import type { LoadedModel } from '../index';
import { MAX_READ_BYTES, readInput, useCliHostBudget } from './read-input';
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

/**
 * The largest model file read: the 8-byte length, the largest header parsed and
 * a float32 W as large as the biggest buffer a WebGPU device hands out (4 GiB,
 * maxBufferSize's ceiling on Dawn's backends), capped by what one array holds.
 * The device's own limit is checked when the model is created on it.
 */
export const MODEL_FILE_MAX_BYTES = Math.min(8 + SAFETENSORS_MAX_HEADER + 2 ** 32, MAX_READ_BYTES);

const MODEL_HINT = 'pass a .safetensors file written by "webgpu-rbm train"';

/**
 * Reads a model file's bytes (before any GPU work, so a typo fails fast): a
 * regular file up to MODEL_FILE_MAX_BYTES; a pipe or device is read as it
 * arrives and refused as soon as its prefix is not safetensors or it runs past
 * what its header declares (so `eval /dev/zero` fails after one block).
 */
export async function readModelFile(path: string): Promise<Uint8Array> {
  useCliHostBudget();
  try {
    return await readInput(path, {
      label: `model ${path}`,
      hint: MODEL_HINT,
      maxBytes: MODEL_FILE_MAX_BYTES,
      kind: 'a model file',
      declaredSize: safetensorsDeclaredSize,
    });
  } catch (e) {
    if (e instanceof SafetensorsFormatError) throw new CliError(`model ${path}: ${messageOf(e).replace(/\.$/, '')}`);
    throw e;
  }
}

/** Commands that take one RBM: a stack file (train --stack) is named as such, not as a file missing "W". */
export function refuseStack(path: string, bytes: Uint8Array): void {
  if (isStackSafetensors(bytes)) {
    throw new CliError(
      `model ${path} is a stack of RBMs (train --stack); this command takes one RBM — use transform, classify or sample on a stack, or a single model's file here`,
    );
  }
}

/** Loads a model file's bytes onto `device`, with one-line errors for files that are not RBMs. */
export function loadModel(device: GPUDevice, path: string, bytes: Uint8Array): LoadedModel {
  refuseStack(path, bytes);
  try {
    // The library checks W's size against this device before anything is decoded.
    return RBM.fromSafetensors(device, bytes);
  } catch (e) {
    if (e instanceof DeviceLimitError) throw new CliError(`model ${path}: ${e.size ? describeSizeLimit(e.size) : messageOf(e)}`);
    if (e instanceof SafetensorsFormatError || e instanceof RangeError) {
      throw new CliError(`model ${path}: ${messageOf(e).replace(/\.$/, '')}`);
    }
    throw e;
  }
}
