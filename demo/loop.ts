// Small cooperative loops that drive the views: each runs its body at most
// every `interval` ms on an animation frame, never overlapping itself, and can
// be suspended (awaiting its body in flight) while the model is swapped.

const nextFrame = (): Promise<number> =>
  new Promise((resolve) => {
    // rAF stops in hidden tabs; fall back to a timer so awaits still settle.
    let done = false;
    const finish = (t: number): void => {
      if (!done) {
        done = true;
        resolve(t);
      }
    };
    requestAnimationFrame(finish);
    setTimeout(() => finish(performance.now()), 250);
  });

export class ViewLoop {
  private suspended = 0;
  private stopped = false;
  private inFlight?: Promise<void>;
  private last = -Infinity;

  constructor(
    readonly name: string,
    private readonly interval: () => number,
    private readonly body: () => Promise<void> | void,
    private readonly onError: (name: string, e: unknown) => void,
  ) {}

  start(): this {
    void this.spin();
    return this;
  }

  /** Runs the body on the next frame regardless of the interval. */
  poke(): void {
    this.last = -Infinity;
  }

  private async spin(): Promise<void> {
    while (!this.stopped) {
      const t = await nextFrame();
      if (this.suspended > 0 || this.stopped || t - this.last < this.interval()) continue;
      this.last = t;
      this.inFlight = (async () => {
        try {
          await this.body();
        } catch (e) {
          this.onError(this.name, e);
        }
      })();
      await this.inFlight;
      this.inFlight = undefined;
    }
  }

  async suspend(): Promise<void> {
    this.suspended++;
    await this.inFlight;
  }

  resume(): void {
    this.suspended = Math.max(0, this.suspended - 1);
    this.poke();
  }

  stop(): void {
    this.stopped = true;
  }
}

/** Main-thread accounting: long tasks the browser saw, and our own synchronous slices. */
export class MainThreadMonitor {
  longTasks: Array<{ start: number; duration: number; training: boolean }> = [];
  ourMaxMs = 0;
  ourMaxLabel = '';
  ourSlicesOver50 = 0;
  /** Durations of our slices (the last 2,000). */
  private slices: number[] = [];
  /** The slowest of our slices: label, milliseconds, and when (ms since page start). */
  worst: Array<{ label: string; ms: number; at: number }> = [];
  trainingSince = -1;
  readonly supported: boolean;

  constructor() {
    let ok = false;
    try {
      const po = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          this.longTasks.push({ start: e.startTime, duration: e.duration, training: this.trainingSince >= 0 && e.startTime >= this.trainingSince });
        }
      });
      po.observe({ type: 'longtask', buffered: true });
      ok = true;
    } catch {
      ok = false;
    }
    this.supported = ok;
  }

  /** Times a synchronous piece of our own code. */
  timed<T>(label: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const dt = performance.now() - t0;
      if (dt > this.ourMaxMs) {
        this.ourMaxMs = dt;
        this.ourMaxLabel = label;
      }
      if (dt > 50) this.ourSlicesOver50++;
      this.slices.push(dt);
      if (this.slices.length > 2000) this.slices.shift();
      if (this.worst.length < 5 || dt > this.worst[this.worst.length - 1].ms) {
        this.worst.push({ label, ms: Math.round(dt * 10) / 10, at: Math.round(t0) });
        this.worst.sort((a, b) => b.ms - a.ms);
        this.worst.length = Math.min(this.worst.length, 5);
      }
    }
  }

  summary(): Record<string, unknown> {
    const during = this.longTasks.filter((t) => t.training);
    return {
      longTaskObserver: this.supported,
      longTasks: this.longTasks.length,
      longTasksWhileTraining: during.length,
      longTasksOver100WhileTraining: during.filter((t) => t.duration > 100).length,
      longTaskMaxMsWhileTraining: Math.round(Math.max(0, ...during.map((t) => t.duration))),
      longTaskMaxMs: Math.round(Math.max(0, ...this.longTasks.map((t) => t.duration))),
      ourMaxMs: Math.round(this.ourMaxMs * 10) / 10,
      ourMaxLabel: this.ourMaxLabel,
      ourSlicesOver50: this.ourSlicesOver50,
      ourSlices: this.slices.length,
      ourSlicesOver100: this.slices.filter((d) => d > 100).length,
      ourP50Ms: Math.round(quantile(this.slices, 0.5) * 10) / 10,
      ourP95Ms: Math.round(quantile(this.slices, 0.95) * 10) / 10,
      ourWorst: this.worst.map((w) => `${w.label} ${w.ms} ms @${w.at}`).join('; '),
      trainingSince: Math.round(this.trainingSince),
      longTaskList: this.longTasks.map((t) => `${Math.round(t.duration)}@${Math.round(t.start)}`).join(' '),
    };
  }
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
