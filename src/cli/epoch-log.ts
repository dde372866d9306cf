// `train --log FILE.jsonl`: one JSON object per epoch. The whole file is
// rewritten atomically after each epoch (it is small: a line per epoch), so a
// reader, a crash or a full disk never sees half a line. A failed write warns
// once and training goes on: the log must never cost the model.
import { writeFileAtomic } from './atomic-write';
import { messageOf } from './errors';
import type { JsonObject } from './output';

export class EpochLog {
  private readonly lines: string[] = [];
  private failed = false;

  constructor(
    readonly path: string,
    private readonly warn: (line: string) => void,
    /** Lines from an earlier run this one continues (a resumed run). */
    earlier: readonly string[] = [],
  ) {
    this.lines.push(...earlier);
  }

  /** Appends one epoch's record and rewrites the file. */
  async append(record: JsonObject): Promise<void> {
    this.lines.push(JSON.stringify(record));
    if (this.failed) return;
    try {
      await writeFileAtomic(this.path, new TextEncoder().encode(this.lines.join('\n') + '\n'), `--log ${this.path}`);
    } catch (e) {
      this.failed = true;
      this.warn(`warning: ${messageOf(e)}; --log stops here, training goes on`);
    }
  }
}

/**
 * The current rate of a progress stream: samples per second over the last
 * few reports (an exponential moving average of the rate between reports),
 * not the average since the start, which set-up time and slow first chunks drag down.
 */
export class RateMeter {
  private last?: { samples: number; seconds: number };
  private rate = NaN;

  constructor(private readonly smoothing = 0.3) {}

  /** Records `samples` done so far at `seconds` since the start; returns the current rate. */
  update(samples: number, seconds: number): number {
    const prev = this.last;
    this.last = { samples, seconds };
    if (!prev || seconds <= prev.seconds || samples < prev.samples) return this.rate;
    const r = (samples - prev.samples) / (seconds - prev.seconds);
    this.rate = Number.isNaN(this.rate) ? r : this.smoothing * r + (1 - this.smoothing) * this.rate;
    return this.rate;
  }
}
