/**
 * The desktop app's main process: one window showing the built editor (dist/renderer) through the
 * privileged `app://topicflow/` protocol under a strict CSP; the engine in a utility process
 * (engineHost.ts) reached over MessagePorts; native menus, dialogs and the keychain. Everything
 * the page may ask of main goes through ipc.ts, which checks the sender and the arguments.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  Menu,
  MessageChannelMain,
  protocol,
  safeStorage,
  session,
  shell,
  utilityProcess,
  type MessagePortMain,
} from 'electron';
import { IPC, type MenuCommand } from '../../shared/desktop/desktopBridge.js';
import { EngineHost, type EngineHostPlatform } from './engineHost.js';
import { isTextFocused, registerIpc } from './ipc.js';
import { menuTemplate, type NativeEdit } from './menu.js';
import { SecretsStore, type Encryptor } from './secrets.js';
import {
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  APP_START_URL,
  appResponseHeaders,
  isAppUrl,
  linkDecision,
  permissionGranted,
  resolveAppFile,
  windowWebPreferences,
} from './security.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
/** dist/renderer, next to dist/main. */
const RENDERER_DIR = here('../../renderer/');
/** The example flows a new workspace starts with (the repository's / the package's flows/). */
const EXAMPLE_FLOWS_DIR = here('../../../flows/');
const PRELOAD = here('./preload.cjs');
const ENGINE_ENTRY = here('./engineProcess.js');

const log = (message: string): void => void process.stderr.write(`topicflow desktop: ${message}\n`);

// Before `ready`: the app's scheme is a standard, secure origin.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
// A separate profile (workspace, store, keychain file), e.g. for tests or a second workspace.
const userDataOverride = process.env['TOPICFLOW_USER_DATA'];
if (userDataOverride) app.setPath('userData', userDataOverride);

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the workspace and its SQLite store: it gets the focus instead.
  app.quit();
} else {
  let window: BrowserWindow | undefined;
  let host: EngineHost<MessagePortMain> | undefined;

  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  // Every web contents, present and future: no navigation away, no new windows, no webviews.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      event.preventDefault();
      openExternally(url);
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      openExternally(url);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  app.on('window-all-closed', () => app.quit());

  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting || !host) return;
    // Drain the engine (bounded by engineHost's stop timeout) before the app exits.
    event.preventDefault();
    quitting = true;
    void host.stop().finally(() => app.quit());
  });

  void app.whenReady().then(() => {
    try {
      ({ window, host } = start());
    } catch (error) {
      dialog.showErrorBox('TopicFlow cannot start', (error as Error).message);
      app.exit(1);
    }
  });

  function start(): { window: BrowserWindow; host: EngineHost<MessagePortMain> } {
    const userData = app.getPath('userData');
    const workspace = join(userData, 'flows');
    const dataDir = join(userData, 'data');
    seedWorkspace(workspace);
    mkdirSync(dataDir, { recursive: true });

    protocol.handle(APP_SCHEME, async (request) => {
      const file = resolveAppFile(RENDERER_DIR, request.url);
      if (!file) return new Response('not found', { status: 404 });
      try {
        return new Response(await readFile(file), { headers: appResponseHeaders(file) });
      } catch {
        return new Response('not found', { status: 404 });
      }
    });
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_contents, permission, callback) => callback(permissionGranted(permission)));
    ses.setPermissionCheckHandler((_contents, permission) => permissionGranted(permission));
    // No remote content: any request that is not the app's own (or DevTools') is cancelled.
    ses.webRequest.onBeforeRequest((details, callback) => {
      const allowed = isAppUrl(details.url) || details.url.startsWith('devtools:');
      if (!allowed) log(`blocked a request to ${details.url}`);
      callback({ cancel: !allowed });
    });

    const secrets = SecretsStore.open(join(userData, 'secrets.json'), safeStorageEncryptor(), {
      warn: (fields, message) => log(`${message}: ${JSON.stringify(fields)}`),
    });
    if (!secrets.status().encrypted) {
      log(`secrets are stored as plain text: no OS keychain (backend ${secrets.status().backend})`);
    }

    const engine = new EngineHost({
      platform: electronEngineHostPlatform,
      entry: ENGINE_ENTRY,
      workspace,
      dataDir,
      secrets: () => secrets.snapshot(),
      log,
      onDidExit: () => {
        for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IPC.engineDown);
      },
      onFatal: (message) => {
        log(message);
        const choice = dialog.showMessageBoxSync({
          type: 'error',
          title: 'TopicFlow engine stopped',
          message: 'The engine keeps stopping, so it was not restarted again.',
          detail: message,
          buttons: ['Try again', 'Quit'],
          defaultId: 0,
        });
        if (choice === 0) engine.retry();
        else app.quit();
      },
    });
    engine.start();
    registerIpc({ host: engine, secrets, documentsDir: app.getPath('documents'), log });

    // The app has one window; a menu used while it is not focused (macOS) still acts on it.
    const target = (): BrowserWindow | undefined =>
      BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
    const send = (command: MenuCommand): void => target()?.webContents.send(IPC.menuCommand, command);
    const nativeEdit = (edit: NativeEdit): boolean => {
      const contents = target()?.webContents;
      if (!contents || !isTextFocused(contents)) return false;
      contents[edit]();
      return true;
    };
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate(
          { send, nativeEdit },
          { isPackaged: app.isPackaged, platform: process.platform, appName: 'TopicFlow' },
        ),
      ),
    );

    const win = new BrowserWindow({
      width: 1400,
      height: 900,
      minWidth: 800,
      minHeight: 500,
      title: 'TopicFlow',
      show: false,
      webPreferences: windowWebPreferences(PRELOAD),
    });
    win.once('ready-to-show', () => win.show());
    // The page's `beforeunload` (unsaved changes) would silently keep the window open: ask instead.
    win.webContents.on('will-prevent-unload', (event) => {
      const choice = dialog.showMessageBoxSync(win, {
        type: 'question',
        buttons: ['Discard changes', 'Cancel'],
        defaultId: 1,
        cancelId: 1,
        message: 'The flow has unsaved changes. Discard them?',
      });
      if (choice === 0) event.preventDefault();
    });
    win.webContents.on('render-process-gone', (_event, details) => log(`renderer gone: ${details.reason}`));
    void win.loadURL(APP_START_URL);
    return { window: win, host: engine };
  }
}

/** The engine in a utility process, with its stderr piped so a crash can be explained. */
const electronEngineHostPlatform: EngineHostPlatform<MessagePortMain> = {
  fork: (entry, env) =>
    utilityProcess.fork(entry, [], { env, serviceName: 'TopicFlow engine', stdio: ['ignore', 'inherit', 'pipe'] }),
  channel: () => new MessageChannelMain(),
};

/** An http(s) link goes to the OS browser; anything else is refused (and logged). */
function openExternally(url: string): void {
  if (linkDecision(url) === 'external') void shell.openExternal(url);
  else log(`refused to open ${url}`);
}

/** A new workspace starts with the example flows; an existing one is left as it is. */
function seedWorkspace(workspace: string): void {
  if (existsSync(workspace)) return;
  mkdirSync(workspace, { recursive: true });
  if (!existsSync(EXAMPLE_FLOWS_DIR)) return;
  for (const name of readdirSync(EXAMPLE_FLOWS_DIR)) {
    // read + write rather than cpSync: the examples sit inside the asar archive in a packaged app.
    if (name.endsWith('.json')) writeFileSync(join(workspace, name), readFileSync(join(EXAMPLE_FLOWS_DIR, name)));
  }
}

/** safeStorage behind the store's interface; the Linux backend decides whether it really encrypts. */
function safeStorageEncryptor(): Encryptor {
  return {
    isEncryptionAvailable: () => safeStorage.isEncryptionAvailable(),
    backend: () => {
      if (process.platform === 'darwin') return 'keychain';
      if (process.platform === 'win32') return 'dpapi';
      return safeStorage.getSelectedStorageBackend();
    },
    encryptString: (plain) => safeStorage.encryptString(plain),
    decryptString: (encrypted) => safeStorage.decryptString(encrypted),
  };
}
