/**
 * The one error type the library throws for anything a user can cause: bad files, bad options,
 * bad model JSON, a diverging run. The CLI prints `message` as a single line and exits non-zero;
 * anything else reaching the top level is a bug and is reported as such.
 */
export class CnnError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CnnError';
    this.exitCode = exitCode;
  }
}

/** Describe an unknown thrown value in one line (used to wrap Node's fs/zlib errors). */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    // one line: newlines (e.g. quoted file content in JSON.parse's message) shown escaped, length capped
    const flat = e.message.trim().replace(/\r?\n/g, '\\n');
    const msg = flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
    return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(e);
}
