// Potts data for the CLI: aligned FASTA or a 2-D .npy of integer codes, read
// into [rows, sites] codes and their one-hot rows [rows, sites·q]. Every
// failure is a one-line CliError naming the file, the problem and the fix.
import { readFile } from 'node:fs/promises';
import {
  codesFromNpy, FastaFormatError, maxCodeOf, NpyFormatError, oneHotFromCodes, parseFasta, PROTEIN_ALPHABET, readNpy,
} from '../index';
import { CliError, messageOf } from './errors';

export interface PottsData {
  rows: number;
  sites: number;
  /** q: states per site. */
  states: number;
  /** The FASTA alphabet (code order), when the data was FASTA. */
  alphabet?: string;
  /** Sequence names (FASTA headers). */
  names?: string[];
  codes: ArrayLike<number>;
  /** [rows, sites·q] one-hot. */
  oneHot: Float32Array;
}

const FASTA_EXTENSIONS = ['fasta', 'fa', 'faa', 'fas', 'aln', 'a2m', 'afa'];

/** Whether a path names FASTA (by extension, .gz aside). */
export function isFastaPath(path: string): boolean {
  return FASTA_EXTENSIONS.includes(path.toLowerCase().replace(/\.gz$/, '').replace(/^.*\./, ''));
}

async function bytesOf(path: string, flagName: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${flagName} ${path}: cannot read it (${code === 'ENOENT' ? 'no such file' : messageOf(e)}); pass aligned FASTA or a 2-D .npy of integer codes`);
  }
}

/** Reads FASTA (by extension) or .npy codes; `states` is required for .npy and must match the alphabet for FASTA. */
export async function readPottsData(path: string, flagName: string, o: { states?: number; alphabet?: string }): Promise<PottsData> {
  const bytes = await bytesOf(path, flagName);
  if (isFastaPath(path)) {
    if (path.toLowerCase().endsWith('.gz')) throw new CliError(`${flagName} ${path}: gzipped FASTA is not read; gunzip it first`);
    const alphabet = o.alphabet ?? PROTEIN_ALPHABET;
    if (o.states !== undefined && o.states !== [...alphabet].length) {
      throw new CliError(
        `--states ${o.states} differs from the ${[...alphabet].length} letters of the alphabet ${JSON.stringify(alphabet)}; ` +
          'for FASTA the alphabet sets q: drop --states or give --alphabet with that many letters',
      );
    }
    let a;
    try {
      a = parseFasta(new TextDecoder().decode(bytes), { alphabet });
    } catch (e) {
      if (e instanceof FastaFormatError) throw new CliError(`${flagName} ${path}: ${e.message}`);
      throw e;
    }
    const q = [...a.alphabet].length;
    return { rows: a.rows, sites: a.sites, states: q, alphabet: a.alphabet, names: a.names, codes: a.codes, oneHot: oneHotFromCodes(a.codes, a.sites, q) };
  }
  if (o.alphabet !== undefined) throw new CliError(`--alphabet applies to FASTA input; ${flagName} ${path} is not FASTA (.fasta, .fa, .aln, …): drop --alphabet`);
  let c;
  try {
    c = codesFromNpy(await readNpy(bytes, { integers: true }), `${flagName} ${path}`);
  } catch (e) {
    if (e instanceof NpyFormatError) {
      throw new CliError(`${flagName} ${path}: ${e.message} (Potts data: aligned FASTA, or a 2-D .npy of integer codes 0..q−1, one column per site)`);
    }
    if (e instanceof RangeError) throw new CliError(e.message);
    throw e;
  }
  if (o.states === undefined) {
    throw new CliError(`--states is required with .npy codes (${flagName} ${path}): give q, the number of states per site (its largest code is ${maxCodeOf(c.codes)})`);
  }
  try {
    return { rows: c.rows, sites: c.sites, states: o.states, codes: c.codes, oneHot: oneHotFromCodes(c.codes, c.sites, o.states) };
  } catch (e) {
    throw new CliError(`${flagName} ${path}: ${messageOf(e)}`);
  }
}
