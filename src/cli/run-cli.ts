/**
 * The one place CLI errors become exit codes: a CnnError is printed as one line on stderr; any
 * other error is a bug, printed as one line too unless --debug asks for the stack. Control
 * characters in a message (a file name with a newline or an escape code) are shown escaped, so
 * that the message stays one line and cannot drive the terminal.
 */
import { CnnError } from '../errors.js';
import { installSignalFallback, isTerminalGone, outputLost } from './signals.js';
import { err } from './style.js';

/** A message with its control characters escaped (\n, \x1b ...): one line, nothing interpreted. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

export async function runCli(name: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  const debug = process.argv.includes('--debug');
  installSignalFallback();
  // an output stream that fails (the reader of a pipe went away, the terminal was closed, stdout
  // is a full disk): a run in progress stops and keeps its checkpoint; otherwise end quietly
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (!outputLost(e.code, stream)) process.exit(process.exitCode ?? (e.code === 'EPIPE' ? 0 : 74));
    });
  }
  try {
    process.exitCode = await main(process.argv);
  } catch (e) {
    if (e instanceof CnnError) {
      process.stderr.write(`${err.red(`${name}: error:`)} ${oneLine(e.message)}\n`);
      if (debug) process.stderr.write(`${e.stack}\n`);
      process.exitCode = e.exitCode;
    } else {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      process.stderr.write(`${err.red(`${name}: internal error:`)} ${oneLine(msg)}${debug ? '' : ' (run again with --debug for details)'}\n`);
      if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = 70;
    }
  }
  if (isTerminalGone()) {
    // Node asserts on exit when the terminal it would reset is gone (nodejs/node#42433): end as
    // SIGHUP's default action does (the shell sees 129), the work being saved by now
    process.removeAllListeners('SIGHUP');
    process.kill(process.pid, 'SIGHUP');
  }
}
