import { useEffect } from 'react';
import { showView, useExplorer } from '../explorer/explorerStore.js';
import { toggleCollapsed } from '../panelStore.js';
import { platform, type MenuCommand } from '../platform.js';
import {
  copySelected,
  deleteSelected,
  layoutFlow,
  paste,
  redo,
  requestFit,
  selectAll,
  undo,
  useEditor,
} from '../store.js';
import { importDocument, listFlows, newFlow, openDialog, saveFlow } from '../flowCommands.js';

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.userAgent);

/** `Ctrl+Z`, or `⌘Z` on a Mac: what a tooltip shows for a shortcut. */
export function shortcutLabel(keys: string): string {
  return IS_MAC ? `⌘${keys.replace('Shift+', '⇧')}` : `Ctrl+${keys}`;
}

/** True unless there are unsaved changes the user does not want to lose. */
export function confirmDiscard(): boolean {
  return !useEditor.getState().dirty || window.confirm('The flow has unsaved changes. Discard them?');
}

function online(): boolean {
  const { busy, connection } = useEditor.getState();
  return !busy && connection === 'open';
}

/** Saves to the open file, or asks for a file name (Save As) the first time. */
export async function requestSave(): Promise<void> {
  if (!online()) return;
  const { fileName } = useEditor.getState();
  if (fileName === undefined) openDialog('saveAs');
  else await saveFlow(fileName);
}

/** Import: a file picked through the platform (browser file input, desktop dialog), opened unsaved. */
export async function requestImport(): Promise<void> {
  if (!confirmDiscard()) return;
  try {
    const picked = await platform().importFlow();
    if (picked) await importDocument(picked.name, picked.text);
  } catch (error) {
    useEditor.setState({ notice: { kind: 'error', text: `Import failed: ${(error as Error).message}` } });
  }
}

/**
 * Every command of the desktop menus (renderer/platform.ts), also reached from the toolbar and the
 * keyboard: one place decides what each does.
 */
export function runCommand(command: MenuCommand): void {
  if (useExplorer.getState().view === 'explorer') {
    // File commands act on the flow, so they bring it to the front; edit and view commands belong
    // to the canvas, which is hidden behind the explorer: they must not change it unseen.
    if (!command.startsWith('file.')) return;
    showView('flow');
  }
  switch (command) {
    case 'file.new':
      if (confirmDiscard()) newFlow();
      return;
    case 'file.open':
      if (online()) void listFlows();
      return;
    case 'file.save':
      void requestSave();
      return;
    case 'file.saveAs':
      if (online()) openDialog('saveAs');
      return;
    case 'file.import':
      void requestImport();
      return;
    case 'file.export':
      if (online()) openDialog('export');
      return;
    case 'edit.undo':
      undo();
      return;
    case 'edit.redo':
      redo();
      return;
    case 'edit.copy':
      void copySelected();
      return;
    case 'edit.paste':
      void paste();
      return;
    case 'edit.delete':
      deleteSelected();
      return;
    case 'edit.selectAll':
      selectAll();
      return;
    case 'view.fit':
      requestFit();
      return;
    case 'view.autoLayout':
      void layoutFlow();
      return;
    case 'view.togglePanel':
      toggleCollapsed();
      return;
    default: {
      // A MenuCommand added to renderer/platform.ts without a case here fails to compile.
      const unhandled: never = command;
      throw new Error(`unknown menu command ${String(unhandled)}`);
    }
  }
}

/** True while the user types into a field: shortcuts are theirs then. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Ctrl/Cmd + key (lower case, with `shift+` when held) → command. */
const KEY_COMMANDS: Readonly<Record<string, MenuCommand>> = {
  n: 'file.new',
  o: 'file.open',
  s: 'file.save',
  'shift+s': 'file.saveAs',
  i: 'file.import',
  e: 'file.export',
  z: 'edit.undo',
  'shift+z': 'edit.redo',
  y: 'edit.redo',
  c: 'edit.copy',
  v: 'edit.paste',
  a: 'edit.selectAll',
  'shift+l': 'view.autoLayout',
  j: 'view.togglePanel',
};

/** Keys whose browser default (new window, open file, save page, print...) is never wanted, even from a field. */
const ALWAYS_OURS = new Set(['n', 'o', 's', 'shift+s', 'e', 'i']);

function onKeyDown(event: KeyboardEvent): void {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
  const key = `${event.shiftKey ? 'shift+' : ''}${event.key.toLowerCase()}`;
  const command = KEY_COMMANDS[key];
  if (command === undefined) return;
  if (ALWAYS_OURS.has(key)) event.preventDefault();
  else if (isTyping(event.target)) return;
  // Behind the explorer the canvas is hidden: its edit keys stay the browser's (copy text...).
  if (!command.startsWith('file.') && useExplorer.getState().view === 'explorer') return;
  // A modal dialog takes the keyboard: no command behind its back.
  if (useEditor.getState().dialog !== undefined) return;
  // Selected text (a debug row, a table cell) copies as text, as usual.
  if (command === 'edit.copy' && (window.getSelection()?.toString() ?? '') !== '') return;
  event.preventDefault();
  runCommand(command);
}

function onBeforeUnload(event: BeforeUnloadEvent): void {
  if (!useEditor.getState().dirty) return;
  event.preventDefault();
  // Older Chromium versions still need returnValue set to show the dialog.
  event.returnValue = '';
}

/** The editor's keys, the desktop menus, and a warning before leaving unsaved changes. */
export function useEditorShortcuts(): void {
  useEffect(() => {
    window.addEventListener('keydown', onKeyDown);
    window.addEventListener('beforeunload', onBeforeUnload);
    const offMenu = platform().onMenuCommand(runCommand);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('beforeunload', onBeforeUnload);
      offMenu();
    };
  }, []);
}
