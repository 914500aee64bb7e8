/**
 * Interrupting a run: Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal was closed) ask the work
 * to stop at the next step boundary, where a checkpoint is written; a second Ctrl-C or SIGTERM
 * exits at once (every file on disk is whole: all writes are atomic). Exit codes follow the
 * shell's convention, 128 + the signal number: 130, 143, 129.
 *
 * What a real terminal does is taken into account: `npx` passes a Ctrl-C on to its child, which
 * the terminal has signalled already, so the same signal twice within a moment counts once; a
 * closed terminal sends SIGHUP twice (to the shell's jobs and from the kernel) and makes writes to
 * it fail (EIO), so SIGHUP never means "quit at once" and a lost output stream (EIO, EPIPE: the
 * reader of a pipe went away, ENOSPC: stdout is a full disk) stops the run as a signal does,
 * keeping its checkpoint.
 */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
/** Exit code when the output stream was lost: 128 + SIGPIPE, as a shell reports a broken pipe. */
export const OUTPUT_LOST_EXIT = 141;
const SIGNALS = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[];
/** A repeat of the first signal within this many ms is the same event delivered twice. */
const ECHO_MS = 300;

export interface InterruptHooks {
  /** First signal: say that the run stops after the current step (not called when the terminal is gone). */
  onFirst?: (signal: NodeJS.Signals) => void;
  /** Second signal, just before exiting: restore the terminal (progress line) and stop children. */
  beforeExit?: (signal: NodeJS.Signals) => void;
}

let active: Interrupts | null = null;
/** Set once a terminal stream has gone away (SIGHUP, EIO): the process ends as SIGHUP would. */
let terminalGone = false;

export class Interrupts {
  readonly controller = new AbortController();
  /** The signal that arrived first, if any. */
  signal: NodeJS.Signals | null = null;
  /** Set when the run stops because its output stream went away. */
  outputLost = false;
  private firstAt = 0;
  private readonly handler = (sig: NodeJS.Signals) => this.on(sig);

  constructor(private readonly hooks: InterruptHooks = {}) {
    for (const s of SIGNALS) process.on(s, this.handler);
    active = this;
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** The exit code for what stopped the run (130 if nothing did). */
  get exitCode(): number {
    if (this.signal) return SIGNAL_EXIT[this.signal];
    return this.outputLost ? OUTPUT_LOST_EXIT : 130;
  }

  private on(sig: NodeJS.Signals): void {
    if (sig === 'SIGHUP' && [process.stdin, process.stdout, process.stderr].some((x) => x.isTTY)) {
      terminalGone = true; // (a SIGHUP sent by kill to a process without a terminal is only a request to stop)
      silenceTerminal();
    }
    if (this.aborted) {
      // the same signal again at once is its echo (npx, the kernel); SIGHUP never quits at once
      if (sig === 'SIGHUP' || (sig === this.signal && performance.now() - this.firstAt < ECHO_MS)) return;
      this.hooks.beforeExit?.(sig);
      if (!terminalGone) process.stderr.write(`\n${sig} again: exiting at once\n`);
      process.exit(SIGNAL_EXIT[sig]);
    }
    this.signal = sig;
    this.firstAt = performance.now();
    if (sig !== 'SIGHUP') this.hooks.onFirst?.(sig);
    this.controller.abort();
  }

  /** The output stream went away: stop as a signal would (the run writes its checkpoint). */
  loseOutput(): void {
    if (this.aborted) return;
    this.outputLost = true;
    this.controller.abort();
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.handler);
    if (active === this) active = null;
  }
}

/**
 * An output stream failed (EPIPE, EIO, ENOSPC...): from now on nothing more is written to it (nor,
 * for EIO, to the terminal), and a run in progress stops and keeps its checkpoint. Returns false
 * when no run is in progress (the caller ends the process quietly then).
 */
export function outputLost(code: string | undefined, stream: NodeJS.WriteStream): boolean {
  if (code === 'EIO') {
    terminalGone = true;
    silenceTerminal();
  }
  silence(stream);
  if (!active) return false;
  active.loseOutput();
  return true;
}

/**
 * Signals that arrive when no run is listening (before one starts, or while the process ends after
 * one) end the process with 128 + the signal number through process.exit, so that exit handlers
 * (the lock files of src/io/run-lock.ts) still run. Installed once by the CLI.
 */
export function installSignalFallback(): void {
  for (const s of SIGNALS) {
    process.on(s, (sig: NodeJS.Signals) => {
      if (active) return; // a run handles it
      if (sig === 'SIGHUP' && [process.stdin, process.stdout, process.stderr].some((x) => x.isTTY)) terminalGone = true;
      process.exit(SIGNAL_EXIT[sig]);
    });
  }
}

/** Whether the terminal went away during this process. */
export function isTerminalGone(): boolean {
  return terminalGone;
}

/**
 * Drop what would be written to the terminal: writing to a closed terminal fails (EIO) and could
 * end the process before the checkpoint is written.
 */
export function silenceTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) if (stream.isTTY) silence(stream); // a file or a pipe is still there
}

function silence(stream: NodeJS.WriteStream): void {
  stream.write = (() => true) as typeof stream.write;
  stream.on('error', () => {});
}
