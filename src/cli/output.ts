// Where the CLI writes. Human-readable lines go to stdout, except under --json,
// where stdout carries exactly one JSON object (its last line) and the lines
// move to stderr. Progress bars always draw on stderr, and only on a terminal.
import cliProgress from 'cli-progress';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };
/** The --json result of a command; undefined fields are left out. */
export type JsonObject = { [key: string]: JsonValue | undefined };

export class Reporter {
  constructor(readonly json: boolean) {}

  /** A human-readable line. */
  line(text: string): void {
    (this.json ? process.stderr : process.stdout).write(text + '\n');
  }

  /** The command's result: the JSON line under --json (nothing otherwise: the lines said it). */
  result(obj: JsonObject): void {
    if (this.json) process.stdout.write(JSON.stringify(obj) + '\n');
  }

  /** A progress bar on stderr (a no-op off a terminal, so logs and tests stay clean). */
  bar(total: number, label: string): ProgressBar {
    return new ProgressBar(total, label);
  }
}

export class ProgressBar {
  private readonly bar: cliProgress.SingleBar;

  constructor(total: number, label: string) {
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} batches | {rate} samples/s | eta {eta_formatted}`,
        stream: process.stderr,
        clearOnComplete: true,
        hideCursor: true,
        barsize: 30,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { rate: '-' });
  }

  update(value: number, samplesPerSecond: number): void {
    this.bar.update(value, { rate: formatCount(samplesPerSecond) });
  }

  stop(): void {
    this.bar.stop();
  }
}

/** Resolves once everything written to stdout and stderr has been handed to the OS. */
export function flushOutput(): Promise<void> {
  const drain = (s: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => s.write('', () => resolve()));
  return Promise.all([drain(process.stdout), drain(process.stderr)]).then(() => undefined);
}

/** 12345.6 -> "12,346". */
export function formatCount(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** A float with `digits` significant digits, for the human-readable lines. */
export function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x);
}
