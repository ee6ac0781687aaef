/**
 * The desktop app end to end through Playwright's `_electron`: the real main process, preload,
 * utility-process engine and renderer. Runs where Electron's binary is installed
 * (`npm run desktop:fetch`) and skips, saying why, where it is not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { _electron } from 'playwright-core';
import { electronBinary } from '../../main/cli/start.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

/** The Electron build of better-sqlite3 (main/electron/nativeAddon.ts), or why there is none. */
function nativeAddon(): { path: string } | { error: string } {
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist/main/electron/nativeAddon.js')], {
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  const path = result.stdout.trim().split('\n').pop();
  return result.status === 0 && path ? { path } : { error: (result.stderr || String(result.error)).trim() };
}

describe('desktop app (Electron)', () => {
  it('opens a sandboxed window whose editor reaches the engine, follows the menus and survives an engine crash', async (t) => {
    const binary = electronBinary();
    if (!binary) {
      t.skip(
        `Electron binary not installed: ${join(repoRoot, 'node_modules/electron/path.txt')} or its dist/ file is missing (npm run desktop:fetch downloads it)`,
      );
      return;
    }
    const addon = nativeAddon();
    if ('error' in addon) {
      t.skip(`better-sqlite3 cannot be built for Electron here: ${addon.error}`);
      return;
    }
    const userData = tempDir('topicflow-desktop-');
    t.after(() => userData.cleanup());
    const app = await _electron.launch({
      executablePath: binary,
      args: [repoRoot],
      env: {
        ...(process.env as Record<string, string>),
        TOPICFLOW_USER_DATA: userData.path,
        TOPICFLOW_SQLITE_NATIVE_BINDING: addon.path,
      },
      timeout: 30_000,
    });
    t.after(() => app.close());
    const page = await app.firstWindow();

    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const contents = BrowserWindow.getAllWindows()[0]?.webContents;
      // Not in Electron's typings, but on every WebContents: the preferences the page runs with.
      const p = (
        contents as unknown as { getLastWebPreferences(): Electron.WebPreferences } | undefined
      )?.getLastWebPreferences();
      return {
        url: contents?.getURL(),
        contextIsolation: p?.contextIsolation,
        sandbox: p?.sandbox,
        nodeIntegration: p?.nodeIntegration,
        webSecurity: p?.webSecurity,
      };
    });
    assert.deepEqual(prefs, {
      url: 'app://topicflow/index.html',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    // No Node in the page; only the bridge.
    assert.deepEqual(
      await page.evaluate(() => {
        const g = globalThis as { require?: unknown; process?: unknown; topicflowDesktop?: { version: number } };
        return [typeof g.require, typeof g.process, g.topicflowDesktop?.version];
      }),
      ['undefined', 'undefined', 1],
    );

    // The editor connects over its MessagePort and gets the engine's status.
    const connection = page.getByTestId('connection');
    await connection.getByText('Connected').waitFor({ timeout: 30_000 });
    await page.getByText('Stopped').waitFor();
    const seeded = await page.evaluate(async () => {
      const r = await fetch('app://topicflow/index.html');
      return r.headers.get('content-security-policy');
    });
    assert.match(seeded ?? '', /default-src 'self'/);

    // A menu command reaches the page: Toggle Panel collapses the bottom panel.
    const panel = page.locator('section.bottom-panel');
    const before = await panel.getAttribute('class');
    await app.evaluate(({ Menu }) => Menu.getApplicationMenu()?.getMenuItemById('view.togglePanel')?.click());
    await page.waitForFunction(
      (cls) =>
        (
          globalThis as unknown as { document: { querySelector(s: string): { className: string } | null } }
        ).document.querySelector('section.bottom-panel')?.className !== cls,
      before,
    );

    // Kill the engine's utility process: the editor goes to Reconnecting… and back to Connected.
    const pid = await app.evaluate(
      ({ app: electronApp }) => electronApp.getAppMetrics().find((m) => m.name === 'TopicFlow engine')?.pid,
    );
    assert.ok(pid, 'the engine utility process is listed');
    process.kill(pid, 'SIGKILL');
    await connection.getByText('Reconnecting…').waitFor({ timeout: 10_000 });
    await connection.getByText('Connected').waitFor({ timeout: 30_000 });
  });
});
