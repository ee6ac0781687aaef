import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { electronBinary, firstReason } from '../../../main/cli/start.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/waitFor.js';

/** Runs `npm start`'s script until it prints the editor URL; checks the page; stops it. */
async function startAndServe(
  t: { after(fn: () => void): void },
  args: string[],
  env: Record<string, string | undefined>,
): Promise<string> {
  const dir = tempDir('topicflow-start-');
  t.after(() => dir.cleanup());
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'dist/main/cli/start.js'), ...args, '--port', '0', '--no-default-broker', '--data-dir', dir.path],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.after(() => child.kill('SIGKILL'));
  const url = await waitFor(
    `the editor URL (${out.slice(0, 400)})`,
    () => /topicflow editor: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1],
    20_000,
  );
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>TopicFlow<\/title>/);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  return out.split('\n')[0] as string;
}

describe('npm start (dist/main/cli/start.js)', () => {
  it('where Electron is missing: tries the download once, says why in one line, and serves the browser editor', async (t) => {
    if (electronBinary()) {
      t.skip('Electron binary is installed here: npm start opens the desktop app instead');
      return;
    }
    // A closed loopback port as the download mirror: the installer fails at once, with or without a network.
    const first = await startAndServe(t, [], { ELECTRON_MIRROR: 'http://127.0.0.1:9/' });
    assert.match(
      first,
      /^topicflow: Electron's binary is not installed here \(download failed: [^)]+; npm run desktop:fetch retries\); serving the editor in the browser instead$/,
    );
    assert.equal(electronBinary(), undefined, 'nothing was half-installed');
  });

  it('--browser serves the browser editor without trying Electron', async (t) => {
    const first = await startAndServe(t, ['--browser'], {});
    assert.equal(first, 'topicflow: --browser given; serving the editor in the browser instead');
  });

  it('finds the binary only where path.txt names a file that exists', (t) => {
    const dir = tempDir('topicflow-electron-pkg-');
    t.after(() => dir.cleanup());
    assert.equal(electronBinary(dir.path), undefined);
    writeFileSync(join(dir.path, 'path.txt'), 'electron');
    assert.equal(electronBinary(dir.path), undefined, 'path.txt without the download');
    mkdirSync(join(dir.path, 'dist'));
    writeFileSync(join(dir.path, 'dist', 'electron'), '');
    assert.equal(electronBinary(dir.path), join(dir.path, 'dist', 'electron'));
  });

  it('reduces an installer failure to its first line, without the stack', () => {
    assert.equal(
      firstReason('\nTypeError: fetch failed\n    at node:internal/deps/undici:1\n    at async x\n'),
      'TypeError: fetch failed',
    );
    assert.equal(firstReason(''), 'no output');
  });
});
