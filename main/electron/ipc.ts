/**
 * Main's IPC handlers: one per DesktopBridge call (shared/desktop/desktopBridge.ts). Each checks
 * who is talking first (the app's own page, in its main frame: security.ts isTrustedSender) and
 * then its arguments (ipcArguments.ts); anything else is refused with an error naming why.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BrowserWindow, dialog, ipcMain, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { IPC, MAX_DIALOG_FILE_BYTES, type PickedFile, type SecretsStatus } from '../../shared/desktop/desktopBridge.js';
import type { EngineHost } from './engineHost.js';
import { booleanArgument, flowText, secretName, secretValue, suggestedFileName } from './ipcArguments.js';
import type { SecretsStore } from './secrets.js';
import { isTrustedSender } from './security.js';

export interface IpcContext {
  readonly host: EngineHost<Electron.MessagePortMain>;
  readonly secrets: SecretsStore;
  /** Where the save dialog starts. */
  readonly documentsDir: string;
  readonly log: (message: string) => void;
}

/** Whether a page has a text field focused (the preload reports it; the Edit menu acts on it natively). */
const textFocused = new WeakMap<WebContents, boolean>();

export function isTextFocused(contents: WebContents): boolean {
  return textFocused.get(contents) === true;
}

function assertTrusted(event: IpcMainEvent | IpcMainInvokeEvent, channel: string): void {
  if (!isTrustedSender(event.senderFrame)) {
    throw new Error(`${channel}: refused, the sender is not the app's own page (${event.senderFrame?.url ?? 'gone'})`);
  }
}

export function registerIpc(context: IpcContext): void {
  const on = (channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): void => {
    ipcMain.on(channel, (event, ...args: unknown[]) => {
      try {
        assertTrusted(event, channel);
        listener(event, ...args);
      } catch (error) {
        context.log((error as Error).message);
      }
    });
  };
  const handle = <T>(
    channel: string,
    handler: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<T> | T,
  ): void => {
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      assertTrusted(event, channel);
      return handler(event, ...args);
    });
  };

  on(IPC.connectEngine, (event) => context.host.connect(event.sender));
  on(IPC.textFocus, (event, focused) => textFocused.set(event.sender, booleanArgument(focused)));

  handle(IPC.importFlow, async (event): Promise<PickedFile | null> => {
    const window = BrowserWindow.fromWebContents(event.sender);
    const options: Electron.OpenDialogOptions = {
      title: 'Import a flow',
      properties: ['openFile'],
      filters: [{ name: 'TopicFlow flows', extensions: ['json'] }],
    };
    const picked = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    const path = picked.filePaths[0];
    if (picked.canceled || path === undefined) return null;
    const size = (await stat(path)).size;
    if (size > MAX_DIALOG_FILE_BYTES) {
      throw new Error(`${path} is ${size} bytes; a flow file is at most ${MAX_DIALOG_FILE_BYTES}`);
    }
    return { name: basename(path), text: await readFile(path, 'utf8') };
  });

  handle(IPC.exportFlow, async (event, name, text): Promise<string | null> => {
    const suggested = suggestedFileName(name);
    const content = flowText(text);
    const window = BrowserWindow.fromWebContents(event.sender);
    const options: Electron.SaveDialogOptions = {
      title: 'Export for gateway',
      defaultPath: join(context.documentsDir, suggested),
      filters: [{ name: 'TopicFlow flows', extensions: ['json'] }],
    };
    const chosen = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
    if (chosen.canceled || !chosen.filePath) return null;
    await writeFile(chosen.filePath, content);
    return chosen.filePath;
  });

  handle(IPC.secretsStatus, (): SecretsStatus => context.secrets.status());
  handle(IPC.setSecret, (_event, name, value) => {
    context.secrets.set(secretName(name), secretValue(value));
    context.host.sendSecrets();
  });
  handle(IPC.removeSecret, (_event, name) => {
    context.secrets.remove(secretName(name));
    context.host.sendSecrets();
  });
}
