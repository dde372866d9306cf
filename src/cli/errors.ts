// The two kinds of failure the CLI reports without a stack trace: bad usage
// (exit 2) and a runtime problem the user can fix (exit 1). Anything else is a
// bug and is reported as one.

/** Bad command line: wrong flag, missing argument, value out of range. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** A runtime failure with a known cause and fix (missing file, malformed data, no GPU). Exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode = 1;
}

/** A thrown value's message, whatever was thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
