#!/usr/bin/env node
/**
 * Run a build step only when its output is older than its sources:
 *   node scripts/if-stale.mjs <output> <source file or folder>... -- <command> [args...]
 * (npm runs `prepare`, the whole build, whenever the package folder is installed or `npx`-ed; a
 * build that is up to date then costs nothing, and one interrupted half-way is redone.)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const sep = args.indexOf('--');
if (sep < 2) {
  console.error('usage: node scripts/if-stale.mjs <output> <sources...> -- <command...>');
  process.exit(2);
}
const [output, ...sources] = args.slice(0, sep);
const command = args.slice(sep + 1);

const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -Infinity;
  }
};
function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((n) => newest(join(p, n))));
}
if (mtime(output) > Math.max(...sources.map(newest))) process.exit(0);
const r = spawnSync(command[0], command.slice(1), { stdio: 'inherit', shell: false });
process.exit(r.status ?? 1);
