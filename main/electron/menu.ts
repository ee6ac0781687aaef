/**
 * The native menus as a template (types only from Electron, so a test checks it under Node). Each
 * item sends one MenuCommand to the page (shared/desktop/desktopBridge.ts), which runs it exactly
 * as its toolbar and keys do. Keys the page already handles are shown but not registered
 * (`registerAccelerator: false`), so a key press reaches the page once, and a text field keeps its
 * own Ctrl+Z/C/V; the Edit items clicked while a text field has focus act on the field natively.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../../shared/desktop/desktopBridge.js';

/** The Edit commands that have a native text-field equivalent (webContents.undo() etc.). */
export type NativeEdit = 'undo' | 'redo' | 'cut' | 'copy' | 'paste' | 'delete' | 'selectAll';

export interface MenuActions {
  /** Sends a command to the focused window's page. */
  send(command: MenuCommand): void;
  /** Runs the native edit on the focused page when a text field has focus; false when none has. */
  nativeEdit(edit: NativeEdit): boolean;
}

export interface MenuOptions {
  readonly isPackaged: boolean;
  readonly platform: NodeJS.Platform;
  readonly appName: string;
}

export function menuTemplate(actions: MenuActions, options: MenuOptions): MenuItemConstructorOptions[] {
  const command = (
    label: string,
    name: MenuCommand,
    accelerator?: string,
    registerAccelerator = false,
  ): MenuItemConstructorOptions => ({
    label,
    id: name,
    ...(accelerator ? { accelerator, registerAccelerator } : {}),
    click: () => actions.send(name),
  });
  const edit = (
    label: string,
    name: MenuCommand,
    native: NativeEdit,
    accelerator?: string,
    registerAccelerator = false,
  ): MenuItemConstructorOptions => ({
    label,
    id: name,
    ...(accelerator ? { accelerator, registerAccelerator } : {}),
    click: () => {
      if (!actions.nativeEdit(native)) actions.send(name);
    },
  });
  const isMac = options.platform === 'darwin';

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      command('New', 'file.new', 'CmdOrCtrl+N'),
      command('Open…', 'file.open', 'CmdOrCtrl+O'),
      { type: 'separator' },
      command('Save', 'file.save', 'CmdOrCtrl+S'),
      command('Save As…', 'file.saveAs', 'CmdOrCtrl+Shift+S'),
      { type: 'separator' },
      command('Import…', 'file.import', 'CmdOrCtrl+I'),
      command('Export for gateway…', 'file.export', 'CmdOrCtrl+E'),
      ...(isMac ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
    ],
  };
  const editMenu: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [
      edit('Undo', 'edit.undo', 'undo', 'CmdOrCtrl+Z'),
      edit('Redo', 'edit.redo', 'redo', isMac ? 'Cmd+Shift+Z' : 'CmdOrCtrl+Y'),
      { type: 'separator' },
      // The page has no Cut of its own: in a text field it cuts, elsewhere it does nothing.
      {
        label: 'Cut',
        accelerator: 'CmdOrCtrl+X',
        registerAccelerator: false,
        click: () => void actions.nativeEdit('cut'),
      },
      edit('Copy', 'edit.copy', 'copy', 'CmdOrCtrl+C'),
      edit('Paste', 'edit.paste', 'paste', 'CmdOrCtrl+V'),
      edit('Delete', 'edit.delete', 'delete'),
      { type: 'separator' },
      edit('Select All', 'edit.selectAll', 'selectAll', 'CmdOrCtrl+A'),
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      command('Fit View', 'view.fit', 'CmdOrCtrl+Shift+1', true),
      command('Auto-Layout', 'view.autoLayout', 'CmdOrCtrl+Shift+L'),
      command('Toggle Panel', 'view.togglePanel', 'CmdOrCtrl+J'),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(options.isPackaged ? [] : [{ type: 'separator' } as const, { role: 'toggleDevTools' } as const]),
    ],
  };
  const appMenu: MenuItemConstructorOptions[] = isMac
    ? [
        {
          label: options.appName,
          submenu: [
            { role: 'about' },
            { type: 'separator' },
            { role: 'hide' },
            { role: 'hideOthers' },
            { role: 'unhide' },
            { type: 'separator' },
            { role: 'quit' },
          ],
        },
      ]
    : [];
  return [...appMenu, file, editMenu, view, { role: 'windowMenu' }];
}
