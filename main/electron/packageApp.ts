/**
 * `npm run package [-- electron-builder args]`: runs electron-builder with electron-builder.yml,
 * then rebuilds better-sqlite3 for Node again. electron-builder's `npmRebuild` compiles native
 * dependencies for Electron in place, in this repository's node_modules, which would leave
 * `topicflow run` and the tests with an addon of the wrong ABI; the rebuild afterwards (whether
 * packaging worked or not) puts the Node build back. Plain Node script, no Electron import.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const builder = join(repoRoot, 'node_modules', 'electron-builder', 'cli.js');

const packaged = spawnSync(
  process.execPath,
  [builder, '--config', 'electron-builder.yml', '--publish', 'never', ...process.argv.slice(2)],
  { cwd: repoRoot, stdio: 'inherit' },
);
process.stdout.write(
  'topicflow package: rebuilding better-sqlite3 for Node (electron-builder built it for Electron)\n',
);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const restored = spawnSync(npm, ['rebuild', 'better-sqlite3'], {
  cwd: repoRoot,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
if (restored.status !== 0) {
  process.stderr.write(
    'topicflow package: `npm rebuild better-sqlite3` failed; run it before `topicflow run` or the tests\n',
  );
}
process.exit(packaged.status ?? 1);
