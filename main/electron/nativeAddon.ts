/**
 * `npm run desktop:native` (and `npm start` before it opens the desktop app): builds
 * better-sqlite3 for Electron's Node ABI in a separate folder, so the Node build that
 * `topicflow run` and the tests load is never replaced. The desktop engine process loads the
 * copy through better-sqlite3's `nativeBinding` option (TOPICFLOW_SQLITE_NATIVE_BINDING, read by
 * main/engine/store/store.ts). Built once per Electron and better-sqlite3 version, then cached.
 * Runs under plain Node (no Electron import). Prints the addon's path as its last stdout line;
 * on failure exits 1 and says why on stderr. Packaged apps do not need it: electron-builder
 * rebuilds the addon for Electron (`npmRebuild`).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REBUILD_TIMEOUT_MS = 10 * 60_000;

function versionOf(packageDir: string): string {
  return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

export interface NativeAddonPaths {
  readonly repoRoot: string;
  /** The cached folder (an app of its own with node_modules/better-sqlite3). */
  readonly folder: string;
  /** The Electron build of the addon. */
  readonly addon: string;
  readonly stamp: string;
}

export function nativeAddonPaths(repoRoot: string): NativeAddonPaths {
  const electron = versionOf(join(repoRoot, 'node_modules', 'electron'));
  const sqlite = versionOf(join(repoRoot, 'node_modules', 'better-sqlite3'));
  const folder = join(
    repoRoot,
    'node_modules',
    '.cache',
    'topicflow-electron',
    `better-sqlite3-${sqlite}-electron-${electron}-${process.platform}-${process.arch}`,
  );
  return {
    repoRoot,
    folder,
    addon: join(folder, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
    stamp: join(folder, 'built.json'),
  };
}

/** The first `Error:` of a tool's output with its continuation lines, without the stack. */
export function firstError(output: string): string {
  const lines = output.split('\n').map((l) => l.trim());
  const start = lines.findIndex((l) => l.startsWith('Error:'));
  if (start === -1) return lines.filter((l) => l !== '').slice(-1)[0] ?? '';
  const message: string[] = [];
  for (const line of lines.slice(start)) {
    if (line === '' || line.startsWith('at ') || line.startsWith('✖')) break;
    message.push(line);
  }
  return message.join(' ').slice(0, 300);
}

/** Builds (or finds cached) the Electron addon; returns its path or throws saying why. */
export function prepareNativeAddon(repoRoot: string): string {
  const paths = nativeAddonPaths(repoRoot);
  if (existsSync(paths.addon) && existsSync(paths.stamp)) return paths.addon;
  rmSync(paths.folder, { recursive: true, force: true });
  const moduleDir = join(paths.folder, 'node_modules', 'better-sqlite3');
  mkdirSync(moduleDir, { recursive: true });
  // A copy without the Node build: @electron/rebuild compiles it for Electron here.
  cpSync(join(repoRoot, 'node_modules', 'better-sqlite3'), moduleDir, {
    recursive: true,
    filter: (source) => !source.includes(`${join('better-sqlite3', 'build')}`),
  });
  writeFileSync(
    join(paths.folder, 'package.json'),
    JSON.stringify({ name: 'topicflow-electron-native', private: true, dependencies: { 'better-sqlite3': '*' } }),
  );
  const electronVersion = versionOf(join(repoRoot, 'node_modules', 'electron'));
  const cli = join(repoRoot, 'node_modules', '@electron', 'rebuild', 'lib', 'cli.js');
  if (!existsSync(cli)) throw new Error(`@electron/rebuild is not installed (${cli}); it comes with electron-builder`);
  const result = spawnSync(
    process.execPath,
    [cli, '--version', electronVersion, '--module-dir', paths.folder, '--only', 'better-sqlite3', '--force'],
    { cwd: paths.folder, encoding: 'utf8', timeout: REBUILD_TIMEOUT_MS },
  );
  if (result.status !== 0 || !existsSync(paths.addon)) {
    rmSync(paths.folder, { recursive: true, force: true });
    const output = `${result.stderr ?? ''}\n${result.stdout ?? ''}`;
    const reason = result.error?.message ?? firstError(output);
    throw new Error(
      `cannot build better-sqlite3 for Electron ${electronVersion} in ${paths.folder}: ${reason || `exit code ${result.status}`} ` +
        '(it needs Electron headers from the network, or a prebuilt binary, and a C++ toolchain)',
    );
  }
  writeFileSync(paths.stamp, JSON.stringify({ electron: electronVersion, at: new Date().toISOString() }));
  return paths.addon;
}

// As a script: `node dist/main/electron/nativeAddon.js`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  try {
    process.stdout.write(`${prepareNativeAddon(repoRoot)}\n`);
  } catch (error) {
    process.stderr.write(`topicflow desktop:native: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
