/**
 * Interrupting a run: Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal was closed) ask the work
 * to stop at the next step boundary, where a checkpoint is written; a second signal exits at once
 * (every file on disk is whole: all writes are atomic). Exit codes follow the shell's convention,
 * 128 + the signal number: 130, 143, 129.
 */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
const SIGNALS = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[];

export interface InterruptHooks {
  /** First signal: say that the run stops after the current step (not called after SIGHUP: no terminal). */
  onFirst?: (signal: NodeJS.Signals) => void;
  /** Second signal, just before exiting: restore the terminal (cursor, progress line). */
  beforeExit?: (signal: NodeJS.Signals) => void;
}

export class Interrupts {
  readonly controller = new AbortController();
  /** The signal that arrived first, if any. */
  signal: NodeJS.Signals | null = null;
  private readonly handler = (sig: NodeJS.Signals) => this.on(sig);

  constructor(private readonly hooks: InterruptHooks = {}) {
    for (const s of SIGNALS) process.on(s, this.handler);
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** The exit code for the signal received (130 if none). */
  get exitCode(): number {
    return this.signal ? SIGNAL_EXIT[this.signal] : 130;
  }

  private on(sig: NodeJS.Signals): void {
    if (sig === 'SIGHUP') silenceTerminal();
    if (this.aborted) {
      this.hooks.beforeExit?.(sig);
      if (sig !== 'SIGHUP') process.stderr.write(`\n${sig} again: exiting at once\n`);
      process.exit(SIGNAL_EXIT[sig]);
    }
    this.signal = sig;
    if (sig !== 'SIGHUP') this.hooks.onFirst?.(sig);
    this.controller.abort();
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.handler);
  }
}

/**
 * The terminal is gone (SIGHUP): writing to it would fail (EIO) and could end the process before
 * the checkpoint is written, so from now on what would go to it is dropped.
 */
export function silenceTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (!stream.isTTY) continue; // a file or a pipe is still there
    stream.write = (() => true) as typeof stream.write;
    stream.on('error', () => {});
  }
}
