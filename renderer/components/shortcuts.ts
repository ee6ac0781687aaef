import { useEffect } from 'react';
import { copySelected, fileNameFor, layoutFlow, paste, redo, saveFlow, undo, useEditor } from '../store.js';

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.userAgent);

/** `Ctrl+Z`, or `⌘Z` on a Mac: what a tooltip shows for a shortcut. */
export function shortcutLabel(keys: string): string {
  return IS_MAC ? `⌘${keys.replace('Shift+', '⇧')}` : `Ctrl+${keys}`;
}

/** Saves to the open file, or asks for a file name the first time. */
export async function requestSave(): Promise<void> {
  const { fileName, meta, busy, connection } = useEditor.getState();
  if (busy || connection !== 'open') return;
  const name = fileName ?? window.prompt('Save the flow as (a .json file in the workspace):', fileNameFor(meta.name));
  if (!name) return;
  await saveFlow(name.endsWith('.json') ? name : `${name}.json`);
}

/** True while the user types into a field: shortcuts are theirs then. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

function onKeyDown(event: KeyboardEvent): void {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
  const key = event.key.toLowerCase();
  // The browser's "Save page" dialog is never wanted in the editor, even from a field.
  if (key === 's') event.preventDefault();
  if (isTyping(event.target)) return;
  if (key === 's') {
    void requestSave();
  } else if (key === 'z' && !event.shiftKey) {
    event.preventDefault();
    undo();
  } else if ((key === 'z' && event.shiftKey) || (key === 'y' && !event.shiftKey)) {
    event.preventDefault();
    redo();
  } else if (key === 'c' && !event.shiftKey) {
    // Selected text (a debug row, a table cell) copies as text, as usual.
    if ((window.getSelection()?.toString() ?? '') !== '') return;
    event.preventDefault();
    void copySelected();
  } else if (key === 'v' && !event.shiftKey) {
    event.preventDefault();
    void paste();
  } else if (key === 'l' && event.shiftKey) {
    event.preventDefault();
    void layoutFlow();
  }
}

function onBeforeUnload(event: BeforeUnloadEvent): void {
  if (!useEditor.getState().dirty) return;
  event.preventDefault();
  // Older Chromium versions still need returnValue set to show the dialog.
  event.returnValue = '';
}

/** Undo/redo, copy/paste, auto-layout and save on the keyboard, and a warning before leaving unsaved changes. */
export function useEditorShortcuts(): void {
  useEffect(() => {
    window.addEventListener('keydown', onKeyDown);
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('beforeunload', onBeforeUnload);
    };
  }, []);
}
