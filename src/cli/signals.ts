// SIGINT (Ctrl-C), SIGTERM (`timeout`, `docker stop`) and SIGHUP (a dropped
// SSH session) end a command the same way. While a model is being trained the
// first signal stops after the current update and the model is still saved;
// where there is nothing to keep (sampling, evaluation, or after the model is
// saved) it quits at once. A second signal always quits at once. Saves are
// atomic (atomic-write.ts), so quitting at any moment leaves every file whole.
import { removeTempFilesSync } from './atomic-write';
import { watchSupervisor } from './supervise';

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

const SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The shell's convention: 128 + the signal number. */
export const SIGNAL_EXIT_CODE: Record<StopSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** 'finish': stop after the current update and save; 'now': quit at once. */
export type OnSignal = 'finish' | 'now';

export class SignalGuard {
  private readonly controller = new AbortController();
  private readonly listeners = new Map<StopSignal, () => void>();
  private first?: StopSignal;
  private readonly unwatch: () => void;

  /**
   * @param mode what the first signal does (see OnSignal)
   * @param write where the one-line notices go (stderr)
   * @param onQuit runs just before an immediate exit (e.g. destroy the GPU device)
   */
  constructor(
    private mode: OnSignal,
    private readonly write: (line: string) => void,
    private readonly onQuit: () => void = () => undefined,
  ) {
    for (const s of SIGNALS) {
      const listener = (): void => this.receive(s);
      this.listeners.set(s, listener);
      process.on(s, listener);
    }
    // A supervisor that dies (killed, its terminal gone) is a hang-up.
    this.unwatch = watchSupervisor(() => this.receive('SIGHUP'));
  }

  /** Aborted at the first signal in 'finish' mode: the training loop's stop request. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first signal received, if any. */
  get received(): StopSignal | undefined {
    return this.first;
  }

  /** The exit code the command should end with, when a signal stopped it. */
  get exitCode(): number | undefined {
    return this.first ? SIGNAL_EXIT_CODE[this.first] : undefined;
  }

  /** Changes what the next signal does (after the model is saved there is nothing left to finish). */
  setMode(mode: OnSignal): void {
    this.mode = mode;
  }

  /** The same as receiving `s` (the supervisor's pipe closing counts as SIGHUP). */
  receive(s: StopSignal): void {
    if (this.first === undefined && this.mode === 'finish') {
      this.first = s;
      this.write(`\nwebgpu-rbm: ${s} received; stopping after the current update and saving (send it again to quit at once)`);
      this.controller.abort();
      return;
    }
    const code = SIGNAL_EXIT_CODE[this.first ?? s];
    this.write(`\nwebgpu-rbm: ${s} received; quitting now${this.first && this.mode === 'finish' ? ' without saving' : ''}`);
    this.quit(code);
  }

  private quit(code: number): never {
    removeTempFilesSync();
    try {
      this.onQuit();
    } catch {
      // Quitting anyway.
    }
    process.exit(code);
  }

  dispose(): void {
    this.unwatch();
    for (const [s, listener] of this.listeners) process.removeListener(s, listener);
    this.listeners.clear();
  }
}
