/**
 * What differs between the editor in a browser (`topicflow serve`) and in the desktop app:
 * file dialogs, menus and the keychain. Components call `platform()` and never ask which one
 * they run in. The desktop variant is backed by the preload (main/electron/preload.cts).
 */

import type { MenuCommand, PickedFile, SecretsStatus } from '../shared/desktop/desktopBridge.js';

// The desktop bridge's contract (shared with main/electron) defines these; re-exported for components.
export type { MenuCommand, PickedFile, SecretsStatus };

export interface Platform {
  readonly kind: 'browser' | 'desktop';
  /** Lets the user pick a flow file from anywhere; null when cancelled. */
  importFlow(): Promise<PickedFile | null>;
  /** Offers `text` to be saved as `suggestedName`; resolves to where it went (or null when cancelled). */
  exportFlow(suggestedName: string, text: string): Promise<string | null>;
  /** Subscribes to menu commands (never called in the browser); returns the unsubscribe. */
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
  /** The keychain: undefined in the browser (secrets come from the engine's environment there). */
  readonly secrets?: {
    status(): Promise<SecretsStatus>;
    set(name: string, value: string): Promise<void>;
    remove(name: string): Promise<void>;
  };
}

const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

/** Browser: an `<input type=file>` to import, a download to export. */
export const browserPlatform: Platform = {
  kind: 'browser',
  importFlow() {
    return new Promise<PickedFile | null>((resolve, reject) => {
      const input = document.createElement('input');
      input.type = 'file';
      input.accept = '.json,application/json';
      input.addEventListener('change', () => {
        const file = input.files?.[0];
        if (!file) return resolve(null);
        if (file.size > MAX_IMPORT_BYTES) {
          return reject(new Error(`${file.name} is ${file.size} bytes; a flow file is at most ${MAX_IMPORT_BYTES}`));
        }
        file.text().then((text) => resolve({ name: file.name, text }), reject);
      });
      input.addEventListener('cancel', () => resolve(null));
      input.click();
    });
  },
  exportFlow(suggestedName, text) {
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = suggestedName;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return Promise.resolve(suggestedName);
  },
  onMenuCommand() {
    return () => undefined;
  },
};

let current: Platform = browserPlatform;

export function platform(): Platform {
  return current;
}

/** Called once at start-up by the desktop bridge (renderer/desktopPlatform.ts). */
export function setPlatform(next: Platform): void {
  current = next;
}
