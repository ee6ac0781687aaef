/**
 * The contract between the desktop app's preload (main/electron/preload.cts) and the page
 * (renderer/desktopPlatform.ts). It lives in shared/ because the renderer may import nothing from
 * main/, and main/electron must not drift from what the page expects: both sides import these types.
 */

/** Commands the desktop menus send; the browser has the same ones on the toolbar and keys. */
export const MENU_COMMANDS = [
  'file.new',
  'file.open',
  'file.save',
  'file.saveAs',
  'file.import',
  'file.export',
  'edit.undo',
  'edit.redo',
  'edit.copy',
  'edit.paste',
  'edit.delete',
  'edit.selectAll',
  'view.fit',
  'view.autoLayout',
  'view.togglePanel',
] as const;

export type MenuCommand = (typeof MENU_COMMANDS)[number];

export function isMenuCommand(value: unknown): value is MenuCommand {
  return typeof value === 'string' && (MENU_COMMANDS as readonly string[]).includes(value);
}

export interface PickedFile {
  readonly name: string;
  readonly text: string;
}

export interface SecretsStatus {
  /** False where the OS offers no keychain and secrets are kept as plain text (show a warning). */
  readonly encrypted: boolean;
  /** e.g. `keychain`, `dpapi`, `gnome_libsecret`, `basic_text`. */
  readonly backend: string;
  readonly names: readonly string[];
}

/** Largest flow file the desktop import/export dialogs read or write (as the engine's limit). */
export const MAX_DIALOG_FILE_BYTES = 5 * 1024 * 1024;
/** A secret's name: what `${secret:NAME}` accepts (shared/references.ts). */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Largest secret value kept in the keychain. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** The `window.postMessage` types the preload uses to hand the page its engine port. */
export const ENGINE_PORT_MESSAGE = 'topicflow:engine-port';
export const ENGINE_DOWN_MESSAGE = 'topicflow:engine-down';

/**
 * What the preload exposes as `window.topicflowDesktop` (contextBridge). Every call goes to main
 * through a validated IPC handler; the engine's protocol itself travels over a MessagePort that
 * `connectEngine()` asks for and the preload posts to the page (`ENGINE_PORT_MESSAGE`).
 */
export interface DesktopBridge {
  readonly version: 1;
  /** Asks main for a fresh MessagePort to the engine; it arrives as a window message. */
  connectEngine(): void;
  /** Subscribes to menu commands; returns the unsubscribe. */
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
  /** Native open dialog; null when cancelled. */
  importFlow(): Promise<PickedFile | null>;
  /** Native save dialog; resolves to the path written, or null when cancelled. */
  exportFlow(suggestedName: string, text: string): Promise<string | null>;
  secretsStatus(): Promise<SecretsStatus>;
  setSecret(name: string, value: string): Promise<void>;
  removeSecret(name: string): Promise<void>;
}

/** IPC channel names between the preload and main (one per bridge call). */
export const IPC = {
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
} as const;
