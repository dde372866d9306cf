// Where the CLI writes. Human-readable lines go to stdout, except under --json,
// where stdout carries exactly one JSON object (its last line) and the lines
// move to stderr. Progress bars always draw on stderr, and only on a terminal.
import cliProgress from 'cli-progress';

/** Set by the supervisor (supervise.ts) when its stderr is a terminal: the child draws its progress bar for that width. */
export const TTY_COLUMNS_ENV = 'WEBGPU_RBM_STDERR_COLUMNS';

/**
 * A reader that goes away (`train … | head -1`, a closed terminal) must never
 * kill a run: EPIPE and friends only mark the stream closed, and later lines
 * to it are dropped. Installed once, first thing in main.
 */
const closed = new WeakSet<NodeJS.WriteStream>();

export function guardStdio(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', () => closed.add(s));
  }
}

function isOpen(s: NodeJS.WriteStream): boolean {
  return !closed.has(s) && !s.destroyed && !s.writableEnded;
}

/** Writes to stdout unless nobody is reading any more. */
export function writeStdout(text: string): void {
  if (isOpen(process.stdout)) process.stdout.write(text);
}

/** Writes to stderr unless nobody is reading any more. */
export function writeStderr(text: string): void {
  if (isOpen(process.stderr)) process.stderr.write(text);
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };
/** The --json result of a command; undefined fields are left out. */
export type JsonObject = { [key: string]: JsonValue | undefined };

export class Reporter {
  constructor(readonly json: boolean) {}

  /** A human-readable line. */
  line(text: string): void {
    (this.json ? writeStderr : writeStdout)(text + '\n');
  }

  /** A notice that always goes to stderr (signals, warnings). */
  warn(text: string): void {
    writeStderr(text + '\n');
  }

  /** The command's result: the JSON line under --json (nothing otherwise: the lines said it). */
  result(obj: JsonObject): void {
    if (this.json) writeStdout(JSON.stringify(obj) + '\n');
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
        stream: progressStream(),
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

/**
 * Where the bar draws: stderr itself, or, in a supervised child whose stderr
 * is a pipe to a terminal-attached supervisor, a stand-in that says it is a
 * terminal of the supervisor's width (the bar is drawn only on terminals).
 */
function progressStream(): NodeJS.WritableStream {
  const columns = Number(process.env[TTY_COLUMNS_ENV]);
  if (process.stderr.isTTY || !(columns > 0)) return process.stderr;
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    writeStderr(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r): r is () => void => typeof r === 'function');
    done?.();
    return true;
  };
  return Object.assign(Object.create(process.stderr) as NodeJS.WritableStream, { isTTY: true, columns, write });
}

/** Resolves once everything written to stdout and stderr has been handed to the OS. */
export function flushOutput(): Promise<void> {
  const drain = (s: NodeJS.WriteStream): Promise<void> =>
    isOpen(s) ? new Promise((resolve) => s.write('', () => resolve())) : Promise.resolve();
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
