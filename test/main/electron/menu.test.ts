import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MenuItemConstructorOptions } from 'electron';
import { MENU_COMMANDS, type MenuCommand } from '../../../shared/desktop/desktopBridge.js';
import { menuTemplate, type NativeEdit } from '../../../main/electron/menu.js';

function flatten(items: readonly MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [
    item,
    ...(Array.isArray(item.submenu) ? flatten(item.submenu as MenuItemConstructorOptions[]) : []),
  ]);
}

function build(options: { isPackaged: boolean; platform: NodeJS.Platform; textFocused?: boolean }) {
  const sent: MenuCommand[] = [];
  const native: NativeEdit[] = [];
  const template = menuTemplate(
    {
      send: (command) => sent.push(command),
      nativeEdit: (edit) => {
        if (!options.textFocused) return false;
        native.push(edit);
        return true;
      },
    },
    { isPackaged: options.isPackaged, platform: options.platform, appName: 'TopicFlow' },
  );
  const items = flatten(template);
  const click = (id: string): void => {
    const item = items.find((i) => i.id === id || i.label === id);
    assert.ok(item?.click, `no clickable item ${id}`);
    (item.click as () => void)();
  };
  return { template, items, sent, native, click };
}

describe('native menus (main/electron/menu.ts)', () => {
  it('has every editor command once, each sending its own name', () => {
    const { items, sent, click } = build({ isPackaged: true, platform: 'linux' });
    const ids = items.map((i) => i.id).filter((id): id is string => id !== undefined);
    assert.deepEqual([...ids].sort(), [...MENU_COMMANDS].sort());
    for (const command of MENU_COMMANDS) click(command);
    assert.deepEqual(sent, [...MENU_COMMANDS]);
  });

  it('File, Edit and View hold the items the issue names', () => {
    const { template } = build({ isPackaged: true, platform: 'linux' });
    const labels = (menu: string) =>
      (template.find((m) => m.label === menu)?.submenu as MenuItemConstructorOptions[])
        .map((i) => i.label ?? i.role)
        .filter(Boolean);
    assert.deepEqual(labels('&File'), ['New', 'Open…', 'Save', 'Save As…', 'Import…', 'Export for gateway…', 'quit']);
    assert.deepEqual(labels('&Edit'), ['Undo', 'Redo', 'Cut', 'Copy', 'Paste', 'Delete', 'Select All']);
    assert.deepEqual(labels('&View').slice(0, 3), ['Fit View', 'Auto-Layout', 'Toggle Panel']);
  });

  it('keys the page handles are shown, not registered (they reach the page and its text fields)', () => {
    const { items } = build({ isPackaged: true, platform: 'linux' });
    const undo = items.find((i) => i.id === 'edit.undo');
    assert.equal(undo?.accelerator, 'CmdOrCtrl+Z');
    assert.equal(undo?.registerAccelerator, false);
    assert.equal(items.find((i) => i.id === 'file.save')?.registerAccelerator, false);
  });

  it('Edit items act natively on a focused text field, and on the canvas otherwise', () => {
    const inField = build({ isPackaged: true, platform: 'linux', textFocused: true });
    inField.click('edit.paste');
    inField.click('edit.undo');
    inField.click('Cut');
    assert.deepEqual(inField.native, ['paste', 'undo', 'cut']);
    assert.deepEqual(inField.sent, []);
    const onCanvas = build({ isPackaged: true, platform: 'linux' });
    onCanvas.click('edit.paste');
    onCanvas.click('Cut');
    assert.deepEqual(onCanvas.sent, ['edit.paste']);
  });

  it('offers DevTools only in development, and the app menu on macOS', () => {
    const roles = (b: ReturnType<typeof build>) => b.items.map((i) => i.role).filter(Boolean);
    assert.ok(!roles(build({ isPackaged: true, platform: 'linux' })).includes('toggleDevTools'));
    assert.ok(roles(build({ isPackaged: false, platform: 'linux' })).includes('toggleDevTools'));
    const mac = build({ isPackaged: true, platform: 'darwin' });
    assert.equal(mac.template[0]?.label, 'TopicFlow');
    assert.equal(roles(mac).filter((r) => r === 'quit').length, 1);
  });
});
