/**
 * The progress line in a real terminal (tmux): it fits the width, dropping the bar graphic before
 * the loss, speed and ETA; Ctrl-C erases it, so nothing stale is left next to the shell's prompt.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR, ROOT } from './helpers/fixture.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A shell in a detached tmux session of the given width; returns helpers to type and read the screen. */
function terminal(width: number) {
  const name = `cnn-${process.pid}-${width}-${Date.now()}`;
  // CI empty: the progress line is drawn only outside CI
  const r = tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', '30', '-e', 'CI=', '-e', 'NO_COLOR=1', 'bash --norc --noprofile');
  if (r.status !== 0) throw new Error(`tmux: ${r.stderr}`);
  const screen = () => tmux('capture-pane', '-p', '-J', '-t', name).stdout;
  const type = (...keys: string[]) => tmux('send-keys', '-t', name, ...keys);
  const waitFor = async (re: RegExp, ms = 30000) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const s = screen();
      if (re.test(s)) return s;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${re}; screen:\n${screen()}`);
  };
  const close = () => tmux('kill-session', '-t', name);
  return { screen, type, waitFor, close };
}

// each run in its own folder: an interrupted run leaves its checkpoint, which the next would refuse to overwrite
const command = () => `cd ${ROOT} && node bin/cnn-train.js --data ${FIXTURE_DIR} --engine reference --epochs 50 --test-limit 0 --out ${mkdtempSync(join(tmpdir(), 'cnn-terminal-'))}/m.json; echo EXIT=$?`;

describe.skipIf(!hasTmux && !process.env.CI)('the progress line in a terminal (tmux)', () => {
  it('at 60 columns: no bar graphic, but loss, img/s and ETA; Ctrl-C leaves no stale line', async () => {
    const t = terminal(60);
    try {
      t.type(command(), 'Enter');
      const s = await t.waitFor(/ETA \S+/);
      const line = s.split('\n').find((l) => /ETA/.test(l))!;
      expect(line.length).toBeLessThan(60);
      expect(line).toMatch(/^epoch \d+\/50 +\d+% \| (\d+\/1000 img \| )?loss \d\.\d{4} \| \d+ img\/s \| ETA \S+$/);
      expect(line).not.toMatch(/\[[#-]+\]/);
      t.type('C-c');
      const after = await t.waitFor(/^EXIT=130\n.*[#$] *$/m);
      expect(after).not.toMatch(/ETA/); // the progress line was erased
      expect(after.split('\n').find((l) => l.startsWith('EXIT=130'))).toBe('EXIT=130');
      expect(after).toMatch(/^SIGINT: stopping after the current step \(again to quit at once\)$/m);
      expect(after).toMatch(/^interrupted in epoch \d+ at image \d+; checkpoint written to/m);
    } finally {
      t.close();
    }
  });

  it('at 100 columns: the bar is drawn, and the line fits', async () => {
    const t = terminal(100);
    try {
      t.type(command(), 'Enter');
      const s = await t.waitFor(/ETA \S+/);
      const line = s.split('\n').find((l) => /ETA/.test(l))!;
      expect(line.length).toBeLessThan(100);
      expect(line).toMatch(/^epoch \d+\/50 \[[#-]{10,40}\] +\d+% \| .*loss \d\.\d{4} \| \d+ img\/s \| ETA \S+$/);
      t.type('C-c');
      await t.waitFor(/EXIT=130/);
    } finally {
      t.close();
    }
  });

  it('closing the terminal (SIGHUP, writes failing with EIO) leaves a checkpoint, every time', async () => {
    for (let k = 0; k < 3; k++) {
      const t = terminal(80);
      const dir = mkdtempSync(join(tmpdir(), 'cnn-hup-'));
      t.type(`cd ${ROOT} && node bin/cnn-train.js --data ${FIXTURE_DIR} --engine reference --epochs 50 --test-limit 0 --out ${dir}/m.json`, 'Enter');
      await t.waitFor(/ETA \S+/);
      t.close(); // the terminal goes away with the job in it
      const t0 = Date.now();
      while (!existsSync(join(dir, 'm.ckpt.json')) && Date.now() - t0 < 10000) await sleep(100);
      await sleep(300); // the lock goes when the process ends
      expect(existsSync(join(dir, 'm.ckpt.json')), `attempt ${k + 1}`).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'm.ckpt.json'), 'utf8')).resume.position).toBeGreaterThan(0);
    }
  });

  it('npx cnn-train: one Ctrl-C writes the checkpoint, though npx passes the signal on a second time', async () => {
    const t = terminal(100);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'cnn-npx-'));
      // (bash skips what follows a job that npm ends by SIGINT, so no "; echo $?" here)
      t.type(`cd ${ROOT} && npx cnn-train --data ${FIXTURE_DIR} --engine reference --epochs 50 --test-limit 0 --out ${dir}/m.json`, 'Enter');
      await t.waitFor(/ETA \S+/, 60000);
      t.type('C-c');
      const after = await t.waitFor(/^resume with: .*$/m);
      await sleep(300);
      expect(t.screen()).not.toMatch(/again: exiting at once/);
      expect(after).toMatch(/^resume with: npx cnn-train --resume .*m\.ckpt\.json --epochs 50 --out/m);
      expect(existsSync(join(dir, 'm.ckpt.json'))).toBe(true);
    } finally {
      t.close();
    }
  });
});
