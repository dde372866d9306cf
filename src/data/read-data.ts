// One entry for data files whose format is told by their first bytes: IDX
// (MNIST-family images) or NumPy .npy, either optionally gzipped, read
// incrementally (src/data/chunks.ts). Environment-neutral.
import { withInput, type ByteChunks } from './chunks';
import { IdxFormatError, readIdxFrom, type IdxData } from './idx';
import { isNpy, NpyFormatError, readNpyFrom, type NpyData } from './npy';

export interface DataReadOptions {
  /** The most data bytes a header may declare (checked before anything is allocated). */
  maxBytes?: number;
  /** Why maxBytes is what it is, for the error. */
  maxReason?: string;
  /** The input's total size when known (a regular file): an uncompressed file's size mismatch fails before its data is read. */
  size?: number;
}

/** A data file, by format. */
export type DataFile = { kind: 'idx'; idx: IdxData } | { kind: 'npy'; npy: NpyData };

/**
 * Reads an IDX or .npy file (plain or gzipped), choosing by the magic bytes:
 * "\x93NUMPY" is .npy, anything else is read as IDX (whose errors name what it
 * expected). Errors are IdxFormatError or NpyFormatError.
 */
export async function readDataStream(source: ByteChunks, o: DataReadOptions = {}): Promise<DataFile> {
  let npy = false;
  return withInput(
    source,
    async (input, gz) => {
      npy = isNpy(await input.peek(6));
      return npy ? { kind: 'npy', npy: await readNpyFrom(input, gz, o) } : { kind: 'idx', idx: await readIdxFrom(input, gz, o) };
    },
    (m) => (npy ? new NpyFormatError(m) : new IdxFormatError(m)),
  );
}
