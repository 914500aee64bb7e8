/**
 * The one place CLI errors become exit codes: a CnnError is printed as one line on stderr; any
 * other error is a bug, printed as one line too unless --debug asks for the stack.
 */
import { CnnError } from '../errors.js';
import { err } from './style.js';

export async function runCli(name: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  const debug = process.argv.includes('--debug');
  // output piped into a reader that stops early (`| head`): end quietly, as Unix tools do
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  try {
    process.exitCode = await main(process.argv);
  } catch (e) {
    if (e instanceof CnnError) {
      process.stderr.write(`${err.red(`${name}: error:`)} ${e.message}\n`);
      if (debug) process.stderr.write(`${e.stack}\n`);
      process.exitCode = e.exitCode;
    } else {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      process.stderr.write(`${err.red(`${name}: internal error:`)} ${msg}${debug ? '' : ' (run again with --debug for details)'}\n`);
      if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = 70;
    }
  }
}
