/**
 * Running the grid of `cnn-train compare`: each run is the real `cnn-train` command (this
 * package's own bin) in a child process, so it gives exactly what the same single command gives,
 * bit for bit; several run side by side (online SGD uses one core each). Children get their own
 * process group, so a Ctrl-C reaches them once, through us, and each writes its checkpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../engine/wasm-module.js';

export interface RunEvents {
  onStart?: () => void;
  /** An epoch (or a progress report within one) of the child. */
  onProgress?: (p: { epoch: number; epochs: number; done: number; total: number; phase: string }) => void;
  onEpoch?: (e: Record<string, unknown>) => void;
}

export interface ChildResult {
  /** 0 done, 129/130/143 interrupted (a checkpoint was written), other: failed. */
  code: number | null;
  /** The last line the child printed on stderr (its one-line error). */
  error: string;
  events: Record<string, unknown>[];
}

export const TRAIN_BIN = () => join(packageRoot(), 'bin', 'cnn-train.js');

/** Start `cnn-train <args> --json --threads 1`; resolves when it exits. */
export function runChild(args: string[], ev: RunEvents, started: (c: ChildProcess) => void): Promise<ChildResult> {
  const child = spawn(process.execPath, [TRAIN_BIN(), ...args, '--json', '--threads', '1'], {
    detached: true, // its own process group: a terminal's Ctrl-C reaches it only through us
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CNN_TRAIN_PROGRESS_EVENTS: '1', NO_COLOR: '1' },
  });
  started(child);
  const events: Record<string, unknown>[] = [];
  let buf = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      if (e.event === 'progress') {
        ev.onProgress?.(e as never);
        continue;
      }
      events.push(e);
      if (e.event === 'start') ev.onStart?.();
      if (e.event === 'epoch') ev.onEpoch?.(e);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    child.on('error', (e) => resolve({ code: null, error: e.message, events }));
    child.on('exit', (code, signal) =>
      resolve({ code: code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : signal === 'SIGHUP' ? 129 : null), error: stderr.trim().split('\n').pop() ?? '', events }),
    );
  });
}

/** Run `jobs` with at most `parallel` at once, in order; `stop()` prevents starting new ones. */
export async function pool<T>(jobs: (() => Promise<T>)[], parallel: number, stopped: () => boolean): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !stopped()) {
      const j = jobs[next++];
      await j();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, jobs.length)) }, worker));
}
