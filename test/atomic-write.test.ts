/** writeFileAtomic through symbolic links: the link stays, the file it points to is replaced. */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWritable, writeFileAtomic } from '../src/io/atomic-write.js';
import { FIXTURE_DIR, ROOT } from './helpers/fixture.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-atomic-'));

describe('writeFileAtomic through a symbolic link', () => {
  it('replaces the file the link points to (in another folder), and keeps the link', () => {
    const d = tmp();
    mkdirSync(join(d, 'models'));
    writeFileSync(join(d, 'models', 'real.json'), 'old');
    symlinkSync('models/real.json', join(d, 'link.json'));
    writeFileAtomic(join(d, 'link.json'), 'new');
    expect(lstatSync(join(d, 'link.json')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(d, 'link.json'))).toBe('models/real.json');
    expect(readFileSync(join(d, 'models', 'real.json'), 'utf8')).toBe('new');
    expect(readdirSync(join(d, 'models'))).toEqual(['real.json']); // no temporary file left
    expect(readdirSync(d).sort()).toEqual(['link.json', 'models']);
  });

  it('follows a chain of links, and a link whose file does not exist yet', () => {
    const d = tmp();
    writeFileSync(join(d, 'real.json'), 'old');
    symlinkSync('real.json', join(d, 'a.json'));
    symlinkSync(join(d, 'a.json'), join(d, 'b.json'));
    writeFileAtomic(join(d, 'b.json'), 'chained');
    expect(readFileSync(join(d, 'real.json'), 'utf8')).toBe('chained');
    expect(lstatSync(join(d, 'a.json')).isSymbolicLink() && lstatSync(join(d, 'b.json')).isSymbolicLink()).toBe(true);
    symlinkSync('later.json', join(d, 'dangling.json'));
    writeFileAtomic(join(d, 'dangling.json'), 'created');
    expect(readFileSync(join(d, 'later.json'), 'utf8')).toBe('created');
    expect(lstatSync(join(d, 'dangling.json')).isSymbolicLink()).toBe(true);
  });

  it('a loop of links is one line, and checkWritable looks at the folder of the link\'s file', () => {
    const d = tmp();
    symlinkSync('y', join(d, 'x'));
    symlinkSync('x', join(d, 'y'));
    expect(() => writeFileAtomic(join(d, 'x'), 'z')).toThrow(/x: cannot write file \(.*ELOOP.*\); any previous file there is unchanged$/);
    symlinkSync('/no/such/folder/m.json', join(d, 'away.json'));
    expect(() => checkWritable(join(d, 'away.json'))).toThrow(/away\.json: cannot write there \(the folder \/no\/such\/folder does not exist\)$/);
  });

  it('cnn-train --out through a link updates the linked file', () => {
    const d = tmp();
    mkdirSync(join(d, 'store'));
    writeFileSync(join(d, 'store', 'model.json'), '{"format": "cnn-train/zhang-2016", "old": true}'); // a model file may be replaced
    symlinkSync('store/model.json', join(d, 'model.json'));
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'cnn-train.js'), '--data', FIXTURE_DIR, '--train-limit', '100', '--test-limit', '0', '--out', 'model.json'], {
      cwd: d, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: 'true' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(readlinkSync(join(d, 'model.json'))).toBe('store/model.json');
    expect(JSON.parse(readFileSync(join(d, 'store', 'model.json'), 'utf8')).format).toBe('cnn-train/zhang-2016');
    expect(readdirSync(join(d, 'store'))).toEqual(['model.json']);
  });
});
