/**
 * `npm start` (after `npm run build`): the desktop app where Electron's binary is installed,
 * otherwise the same editor served to the browser by `topicflow serve` (on the example flows),
 * saying so in one line.
 *
 * - The binary is `node_modules/electron/dist/<path.txt>`; it is checked on disk, never by
 *   requiring `electron` (whose index.js starts a download when the binary is missing).
 * - When it is missing, Electron's own installer is tried once (it fails fast offline; the
 *   repository's `allowScripts` skips it at `npm install`). `npm run desktop:fetch` retries it.
 * - Before opening the app, better-sqlite3 is built for Electron into a cache folder
 *   (main/electron/nativeAddon.ts), never over the Node build; when that fails, it says why and
 *   serves the browser editor instead.
 * - `--browser` skips all of this. Other arguments go to `topicflow serve`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_NODE_FLAGS } from './nodeFlags.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ELECTRON_PACKAGE = join(REPO_ROOT, 'node_modules', 'electron');
const DESKTOP_MAIN = join(REPO_ROOT, 'dist', 'main', 'electron', 'main.js');
const NATIVE_ADDON_SCRIPT = join(REPO_ROOT, 'dist', 'main', 'electron', 'nativeAddon.js');
/** Electron's installer fails within a second offline; a real download of ~100 MB may take a while. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** The Electron binary when the package and its download are both present. */
export function electronBinary(packageDir = ELECTRON_PACKAGE): string | undefined {
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

/** The first line of a failed command's output that is not a stack frame, for a one-line reason. */
export function firstReason(output: string): string {
  const line = output
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('at '));
  return (line ?? 'no output').slice(0, 160);
}

/** Tries Electron's installer once; returns why it did not give a binary, or undefined when it did. */
function tryDownload(): string | undefined {
  const installer = join(ELECTRON_PACKAGE, 'install.js');
  if (!existsSync(installer)) return 'the electron package is not installed';
  const result = spawnSync(process.execPath, [installer], {
    cwd: ELECTRON_PACKAGE,
    encoding: 'utf8',
    timeout: DOWNLOAD_TIMEOUT_MS,
  });
  if (electronBinary()) return undefined;
  if (result.error) return `download failed: ${result.error.message}`;
  return `download failed: ${firstReason(`${result.stderr}\n${result.stdout}`)}`;
}

/** The Electron build of better-sqlite3 (built once, cached), or why there is none. */
function nativeAddon(): { path: string } | { error: string } {
  const result = spawnSync(process.execPath, [NATIVE_ADDON_SCRIPT], { encoding: 'utf8', stdio: 'pipe' });
  const path = result.stdout.trim().split('\n').pop();
  if (result.status === 0 && path && existsSync(path)) return { path };
  return { error: firstReason(result.stderr || result.stdout || String(result.error?.message)) };
}

function serveInBrowser(why: string, args: string[]): void {
  process.stdout.write(`topicflow: ${why}; serving the editor in the browser instead\n`);
  const cli = fileURLToPath(new URL('./topicflow.js', import.meta.url));
  const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, cli, 'serve', '--workspace', 'flows', ...args], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function openDesktop(binary: string, addon: string): void {
  process.stdout.write('topicflow: opening the desktop app\n');
  const child = spawn(binary, [REPO_ROOT], {
    stdio: 'inherit',
    env: { ...process.env, TOPICFLOW_SQLITE_NATIVE_BINDING: addon },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function main(argv: string[]): void {
  const browser = argv.includes('--browser');
  const args = argv.filter((a) => a !== '--browser');
  if (browser) return serveInBrowser('--browser given', args);
  if (!existsSync(DESKTOP_MAIN)) return serveInBrowser('the desktop shell is not built (npm run build)', args);
  let binary = electronBinary();
  if (!binary) {
    const why = tryDownload();
    binary = electronBinary();
    if (!binary) {
      return serveInBrowser(
        `Electron's binary is not installed here (${why ?? 'no binary after the download'}; npm run desktop:fetch retries)`,
        args,
      );
    }
  }
  const addon = nativeAddon();
  if ('error' in addon) {
    return serveInBrowser(`cannot build better-sqlite3 for Electron (${addon.error})`, args);
  }
  openDesktop(binary, addon.path);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
