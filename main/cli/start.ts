/**
 * `npm start`: the desktop app where Electron is installed, otherwise the same editor served to the
 * browser by `topicflow serve` (on the example flows), saying so in one line.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ENGINE_NODE_FLAGS } from './nodeFlags.js';

/** The Electron binary when the `electron` package and its download are both present. */
function electronBinary(): string | undefined {
  try {
    // The package's main module is the path of the binary it downloaded; it throws when the download failed.
    const binary = createRequire(import.meta.url)('electron') as unknown;
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const desktopShell = existsSync(fileURLToPath(new URL('../electron/main.js', import.meta.url)));
if (electronBinary() && desktopShell) {
  process.stdout.write('topicflow: opening the desktop app\n');
} else {
  process.stdout.write(
    `topicflow: ${electronBinary() ? 'the desktop shell is not built yet' : "Electron's binary is not installed here"}; serving the editor in the browser instead\n`,
  );
}
// The desktop shell does not exist yet (see README, Known not to work yet): the browser editor it is.
const cli = fileURLToPath(new URL('./topicflow.js', import.meta.url));
const child = spawn(
  process.execPath,
  [...ENGINE_NODE_FLAGS, cli, 'serve', '--workspace', 'flows', ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
