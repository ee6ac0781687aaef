import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/waitFor.js';

describe('npm start (dist/main/cli/start.js)', () => {
  it('says in one line that it serves the editor in the browser where Electron is missing, and does', async (t) => {
    const dir = tempDir('topicflow-start-');
    t.after(() => dir.cleanup());
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'dist/main/cli/start.js'), '--port', '0', '--data-dir', dir.path],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
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
    assert.equal(
      out.split('\n')[0],
      "topicflow: Electron's binary is not installed here; serving the editor in the browser instead",
    );
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>TopicFlow<\/title>/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
