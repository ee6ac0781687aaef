/**
 * The preload of the editor's window. Sandboxed preloads run as CommonJS and may require only
 * 'electron' (and a few Node polyfills), hence `.cts` and no runtime import from shared/: the
 * channel names are repeated here as literals, and typed against shared/'s constants so they
 * cannot drift. It exposes one small typed API (DesktopBridge) and hands the page its MessagePort
 * to the engine with window.postMessage (a port cannot cross contextBridge).
 */
// Electron runs a sandboxed preload with `require`, `exports` and `module` (CommonJS), ESM not at all.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS form verbatimModuleSyntax wants in a .cts
import electron = require('electron');
import type {
  DesktopBridge,
  ENGINE_DOWN_MESSAGE as EngineDownMessage,
  ENGINE_PORT_MESSAGE as EnginePortMessage,
  IPC as IpcChannels,
  MenuCommand,
  PickedFile,
  SecretsStatus,
} from '../../shared/desktop/desktopBridge.js';

const { contextBridge, ipcRenderer } = electron;
type IpcRendererEvent = Electron.IpcRendererEvent;

const IPC: typeof IpcChannels = {
  connectEngine: 'topicflow:connect-engine',
  menuCommand: 'topicflow:menu-command',
  enginePort: 'topicflow:engine-port',
  engineDown: 'topicflow:engine-down',
  textFocus: 'topicflow:text-focus',
  importFlow: 'topicflow:import-flow',
  exportFlow: 'topicflow:export-flow',
  secretsStatus: 'topicflow:secrets-status',
  setSecret: 'topicflow:set-secret',
  removeSecret: 'topicflow:remove-secret',
};
const ENGINE_PORT_MESSAGE: typeof EnginePortMessage = 'topicflow:engine-port';
const ENGINE_DOWN_MESSAGE: typeof EngineDownMessage = 'topicflow:engine-down';

const menuListeners = new Set<(command: MenuCommand) => void>();
ipcRenderer.on(IPC.menuCommand, (_event: IpcRendererEvent, command: MenuCommand) => {
  for (const listener of menuListeners) listener(command);
});

// The port main created for this page: posted to this window only (its own origin).
ipcRenderer.on(IPC.enginePort, (event: IpcRendererEvent) => {
  window.postMessage({ type: ENGINE_PORT_MESSAGE }, window.location.origin, [...event.ports]);
});
ipcRenderer.on(IPC.engineDown, () => {
  window.postMessage({ type: ENGINE_DOWN_MESSAGE }, window.location.origin);
});

/** Whether `element` edits text: the Edit menu then acts on it natively (main/electron/menu.ts). */
function editsText(element: EventTarget | null): boolean {
  if (!(element instanceof HTMLElement)) return false;
  if (element.isContentEditable || element instanceof HTMLTextAreaElement) return true;
  return element instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(element.type);
}
let textFocused = false;
const reportFocus = (focused: boolean): void => {
  if (focused === textFocused) return;
  textFocused = focused;
  ipcRenderer.send(IPC.textFocus, focused);
};
window.addEventListener('focusin', (event) => reportFocus(editsText(event.target)));
window.addEventListener('focusout', (event) => reportFocus(editsText(event.relatedTarget)));

const bridge: DesktopBridge = {
  version: 1,
  connectEngine: () => ipcRenderer.send(IPC.connectEngine),
  onMenuCommand(listener) {
    menuListeners.add(listener);
    return () => void menuListeners.delete(listener);
  },
  importFlow: () => ipcRenderer.invoke(IPC.importFlow) as Promise<PickedFile | null>,
  exportFlow: (suggestedName, text) =>
    ipcRenderer.invoke(IPC.exportFlow, suggestedName, text) as Promise<string | null>,
  secretsStatus: () => ipcRenderer.invoke(IPC.secretsStatus) as Promise<SecretsStatus>,
  setSecret: (name, value) => ipcRenderer.invoke(IPC.setSecret, name, value) as Promise<void>,
  removeSecret: (name) => ipcRenderer.invoke(IPC.removeSecret, name) as Promise<void>,
};

contextBridge.exposeInMainWorld('topicflowDesktop', bridge);
