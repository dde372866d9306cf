// Incremental reading of byte streams (a file read in blocks, a dropped File's
// stream, gzip inflating as it goes): the readers of src/data parse a header
// from the first bytes, allocate the exact output it declares, and copy the
// rest straight into it, never holding the whole input twice.
// Environment-neutral: DecompressionStream is standard (Node ≥ 18, browsers).

/** Anything yielding byte chunks in order: an async generator, a ReadableStream (Node), an array. */
export type ByteChunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** A pull reader over byte chunks with look-ahead, counting what it consumed. */
export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  /** Buffered chunks not yet consumed (the first starts at `offset`). */
  private pending: Uint8Array[] = [];
  private offset = 0;
  private buffered = 0;
  private ended = false;
  /** Bytes consumed so far. */
  position = 0;

  constructor(source: ByteChunks) {
    this.it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  // Pulls one more chunk; false at the end.
  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      if (r.value.length === 0) continue;
      this.pending.push(r.value);
      this.buffered += r.value.length;
      return true;
    }
  }

  /** The next `n` bytes without consuming them (fewer at the end of the input). */
  async peek(n: number): Promise<Uint8Array> {
    while (this.buffered < n && (await this.pull()));
    const want = Math.min(n, this.buffered);
    const first = this.pending[0];
    if (want === 0) return new Uint8Array(0);
    if (first.length - this.offset >= want) return first.subarray(this.offset, this.offset + want);
    const out = new Uint8Array(want);
    let at = 0;
    let off = this.offset;
    for (const c of this.pending) {
      const take = Math.min(c.length - off, want - at);
      out.set(c.subarray(off, off + take), at);
      at += take;
      off = 0;
      if (at === want) break;
    }
    return out;
  }

  /** Fills `target` from the input; returns how many bytes it got (fewer than target.length only at the end). */
  async readInto(target: Uint8Array): Promise<number> {
    let at = 0;
    while (at < target.length) {
      if (this.pending.length === 0 && !(await this.pull())) break;
      const c = this.pending[0];
      const take = Math.min(c.length - this.offset, target.length - at);
      target.set(c.subarray(this.offset, this.offset + take), at);
      at += take;
      this.consume(take);
    }
    return at;
  }

  /** Skips up to `n` bytes; returns how many were skipped (fewer only at the end). */
  async skip(n: number): Promise<number> {
    let done = 0;
    while (done < n) {
      if (this.pending.length === 0 && !(await this.pull())) break;
      const take = Math.min(this.pending[0].length - this.offset, n - done);
      done += take;
      this.consume(take);
    }
    return done;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return (await this.peek(1)).length === 0;
  }

  private consume(n: number): void {
    this.offset += n;
    this.buffered -= n;
    this.position += n;
    if (this.offset === this.pending[0].length) {
      this.pending.shift();
      this.offset = 0;
    }
  }

  /** The unconsumed input as chunks (the look-ahead first); the reader must not be used afterwards. */
  async *rest(): AsyncGenerator<Uint8Array> {
    const held = this.pending;
    const offset = this.offset;
    this.pending = [];
    this.buffered = 0;
    this.offset = 0;
    let finished = this.ended;
    try {
      for (let i = 0; i < held.length; i++) yield i === 0 ? held[0].subarray(offset) : held[i];
      while (!finished) {
        const r = await this.it.next();
        if (r.done) finished = true;
        else yield r.value;
      }
    } finally {
      // Stopped early by the consumer: release the source.
      if (!finished) await this.close();
    }
  }

  /** Stops reading: lets the source release what it holds (a file handle, a decompressor). */
  async close(): Promise<void> {
    this.ended = true;
    this.pending = [];
    try {
      await this.it.return?.();
    } catch {
      // Closing after a failure: the first error is the one to report.
    }
  }
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function startsWithGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Thrown (as the cause's wrapper) when gzip data cannot be inflated. */
export class GzipError extends Error {
  override name = 'GzipError';
}

/**
 * Inflates gzip chunks as they are read (DecompressionStream), yielding the
 * inflated chunks. Corrupt or truncated data ends in a GzipError. Stopping
 * early (return/throw from the consumer) stops the input too.
 */
export async function* gunzipChunks(source: ByteChunks): AsyncGenerator<Uint8Array> {
  const stream = new DecompressionStream('gzip');
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let stop = false;
  let inputError: unknown;
  // Feeds the decompressor as it asks for more (its writes wait on the consumer's reads).
  const pump = (async () => {
    try {
      for await (const chunk of source) {
        if (stop) break;
        await writer.ready;
        await writer.write(chunk as Uint8Array<ArrayBuffer>);
      }
      if (!stop) await writer.close();
    } catch (e) {
      if (!stop) inputError = e;
      await writer.abort(e).catch(() => {});
    }
  })();
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        if (inputError !== undefined) throw inputError;
        throw new GzipError(e instanceof Error ? e.message : String(e));
      }
      if (r.done) break;
      yield r.value;
    }
    if (inputError !== undefined) throw inputError;
  } finally {
    stop = true;
    await reader.cancel().catch(() => {});
    await pump;
  }
}

/**
 * Opens byte chunks for a reader: `read` gets the (inflated, when the input
 * starts with the gzip magic) bytes and whether they were gzipped. GzipErrors
 * become `corrupt` (a format error of the caller's kind); the source is closed
 * on every path.
 */
export async function withInput<T>(
  source: ByteChunks,
  read: (input: ByteReader, gz: boolean) => Promise<T>,
  corrupt: (message: string) => Error,
): Promise<T> {
  const outer = new ByteReader(source);
  let input = outer;
  try {
    const gz = startsWithGzip(await outer.peek(2));
    if (gz) input = new ByteReader(gunzipChunks(outer.rest()));
    return await read(input, gz);
  } catch (e) {
    if (e instanceof GzipError) throw corrupt(`corrupt gzip data (${e.message}); the .gz file is truncated or damaged, re-download it.`);
    throw e;
  } finally {
    await input.close();
    if (input !== outer) await outer.close();
  }
}
