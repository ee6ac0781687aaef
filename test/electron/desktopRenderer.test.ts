/**
 * The built editor as the desktop app runs it, in Debian's Chromium (Electron's binary cannot be
 * had everywhere; Chromium can): the desktop app's Content-Security-Policy header on every
 * response, and a stand-in for the preload's bridge that hands the page a real MessagePort. The
 * port is relayed to a real engine over a WebSocket, so the page's desktop code path runs for
 * real: desktopPlatform.ts, the MessagePort transport of protocolClient.ts, menu commands and
 * the plain-text keychain banner. Only the preload itself (and Electron) is not exercised here.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { FlowEngine } from '../../main/engine/flowEngine.js';
import { CONTENT_SECURITY_POLICY, appResponseHeaders, resolveAppFile } from '../../main/electron/security.js';
import { EngineService } from '../../main/server/engineService.js';
import { createWsTransport, type WsTransport } from '../../main/server/wsTransport.js';
import { CHROMIUM_LAUNCH, chromiumMissing } from '../helpers/chromium.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

/**
 * Runs in the page before its scripts, as the preload would: `window.topicflowDesktop`, whose
 * connectEngine() posts a MessagePort to the page (same message shape as preload.cts); the other
 * end of the port is relayed to the engine's WebSocket.
 */
const FAKE_PRELOAD = `(() => {
  const menuListeners = new Set();
  const state = { violations: [], connects: 0, sockets: [] };
  window.__desktopTest = state;
  document.addEventListener('securitypolicyviolation', (e) => state.violations.push(e.violatedDirective + ' ' + e.blockedURI));
  window.__menu = (command) => menuListeners.forEach((l) => l(command));
  window.topicflowDesktop = Object.freeze({
    version: 1,
    connectEngine() {
      state.connects++;
      const { port1, port2 } = new MessageChannel();
      const ws = new WebSocket(location.origin.replace('http', 'ws') + '/api');
      state.sockets.push(ws);
      ws.onopen = () => window.postMessage({ type: 'topicflow:engine-port' }, location.origin, [port2]);
      port1.onmessage = (e) => ws.send(e.data);
      ws.onmessage = (e) => port1.postMessage(String(e.data));
      ws.onclose = () => port1.close();
    },
    onMenuCommand(listener) { menuListeners.add(listener); return () => menuListeners.delete(listener); },
    importFlow: async () => null,
    exportFlow: async () => null,
    secretsStatus: async () => ({ encrypted: false, backend: 'basic_text', names: [] }),
    setSecret: async () => undefined,
    removeSecret: async () => undefined,
  });
})();`;

interface PageState {
  violations: string[];
  connects: number;
}

describe(
  'the editor on the desktop code path (Chromium, desktop CSP)',
  { skip: chromiumMissing ?? false, timeout: 90_000 },
  () => {
    const tmp = tempDir('topicflow-desktop-renderer-');
    let engine: FlowEngine;
    let service: EngineService;
    let transport: WsTransport;
    let server: Server;
    let url = '';
    let browser: Browser;

    before(async () => {
      const workspace = join(tmp.path, 'flows');
      mkdirSync(workspace);
      writeFileSync(
        join(workspace, 'one.json'),
        JSON.stringify({ format: 'topicflow/flow@1', name: 'one', connections: [], nodes: [], edges: [] }),
      );
      engine = FlowEngine.open({ dataDir: join(tmp.path, 'data') });
      service = new EngineService(engine, { workspace, lookup: () => undefined });
      transport = createWsTransport(service);
      // The renderer served as the app:// protocol serves it: same file resolution, same headers
      // (the CSP among them), over loopback http so Chromium can load it.
      const rendererDir = join(repoRoot, 'dist', 'renderer');
      server = createServer((request, response) => {
        const file = resolveAppFile(rendererDir, `app://topicflow${request.url ?? '/'}`);
        if (!file) return void response.writeHead(404).end();
        readFile(file).then(
          (bytes) => response.writeHead(200, appResponseHeaders(file)).end(bytes),
          () => response.writeHead(404).end(),
        );
      });
      server.on('upgrade', (request, socket, head) => transport.handleUpgrade(request, socket, head));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      browser = await chromium.launch({ ...CHROMIUM_LAUNCH });
    });
    after(async () => {
      await browser?.close();
      await transport?.close();
      await new Promise((resolve) => server?.close(resolve));
      service?.dispose();
      await engine?.stop();
      tmp.cleanup();
    });

    it('runs under the CSP, connects over the port, follows menu commands, reconnects, warns about plain-text secrets', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await context.addInitScript(FAKE_PRELOAD);
      const response = await page.goto(url);
      assert.equal(response?.headers()['content-security-policy'], CONTENT_SECURITY_POLICY);
      const connection = page.getByTestId('connection');
      await connection.getByText('Connected').waitFor();
      const state = () => page.evaluate(() => (globalThis as unknown as { __desktopTest: PageState }).__desktopTest);
      assert.equal((await state()).connects, 1, 'the page asked the bridge for its engine port');
      await page.locator('.palette-item').first().waitFor();

      // A menu command from main (here: the bridge's listeners) runs the editor's command.
      const panel = page.locator('section.bottom-panel');
      assert.doesNotMatch((await panel.getAttribute('class')) ?? '', /collapsed/);
      await page.evaluate(() => (globalThis as unknown as { __menu(c: string): void }).__menu('view.togglePanel'));
      await page.waitForSelector('section.bottom-panel.collapsed');

      // The keychain is plain text here: the banner says so.
      await page.getByTestId('secrets-banner').getByText('Secrets are stored as plain text.').waitFor();

      // The engine goes away (main's "engine down", as the preload relays it): Reconnecting…, then a new port.
      await page.evaluate(() => {
        const s = (globalThis as unknown as { __desktopTest: { sockets: { close(): void }[] } }).__desktopTest;
        for (const socket of s.sockets) socket.close();
        (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(
          { type: 'topicflow:engine-down' },
          (globalThis as unknown as { location: { origin: string } }).location.origin,
        );
      });
      await connection.getByText('Reconnecting…').waitFor();
      await connection.getByText('Connected').waitFor();
      assert.ok((await state()).connects >= 2, 'a new port was asked for');

      assert.deepEqual((await state()).violations, [], 'no Content-Security-Policy violation');
      // The policy is enforced (so the empty list above means something): an inline script is refused and reported.
      const ran = await page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { createElement(t: string): { textContent: string }; head: { appendChild(n: unknown): void } };
          __inlineRan?: boolean;
        };
        const script = g.document.createElement('script');
        script.textContent = 'globalThis.__inlineRan = true';
        g.document.head.appendChild(script);
        return g.__inlineRan === true;
      });
      assert.equal(ran, false, 'an inline script ran despite the CSP');
      await page.waitForFunction(
        () => (globalThis as unknown as { __desktopTest: PageState }).__desktopTest.violations.length > 0,
      );
      assert.match((await state()).violations.join('\n'), /script-src/);
      assert.deepEqual(pageErrors, []);
      await context.close();
    });
  },
);
