import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { moveActive, paletteGroups, visibleOrder, type PaletteEntry } from '../../renderer/graph/palette.js';

const catalog: PaletteEntry[] = [
  { type: 'sqlite-sink', title: 'SQLite sink', summary: 'Writes rows', category: 'sink' },
  { type: 'mqtt-in', title: 'MQTT in', summary: 'Subscribes', category: 'source' },
  { type: 'transform', title: 'Transform', summary: 'JSONata', category: 'process' },
  { type: 'mqtt-out', title: 'MQTT out', summary: 'Publishes', category: 'sink' },
];

describe('palette', () => {
  it('groups matches in category order and walks them in the order shown', () => {
    const groups = paletteGroups(catalog, '');
    assert.deepEqual(
      groups.map((g) => g.category),
      ['source', 'process', 'sink'],
    );
    assert.deepEqual(
      visibleOrder(groups).map((n) => n.type),
      ['mqtt-in', 'transform', 'sqlite-sink', 'mqtt-out'],
    );
    assert.deepEqual(
      visibleOrder(paletteGroups(catalog, ' MQTT ')).map((n) => n.type),
      ['mqtt-in', 'mqtt-out'],
    );
    assert.deepEqual(
      visibleOrder(paletteGroups(catalog, 'jsonata')).map((n) => n.type),
      ['transform'],
    );
    assert.deepEqual(paletteGroups(catalog, 'nothing'), []);
  });

  it('moves the active item with the arrow keys, wrapping, and Home/End', () => {
    assert.equal(moveActive(-1, 'ArrowDown', 4), 0);
    assert.equal(moveActive(-1, 'ArrowUp', 4), 3);
    assert.equal(moveActive(0, 'ArrowDown', 4), 1);
    assert.equal(moveActive(3, 'ArrowDown', 4), 0);
    assert.equal(moveActive(0, 'ArrowUp', 4), 3);
    assert.equal(moveActive(2, 'Home', 4), 0);
    assert.equal(moveActive(0, 'End', 4), 3);
    // The list shrank under a search: the active item stays within it.
    assert.equal(moveActive(3, 'x', 2), 1);
    assert.equal(moveActive(0, 'ArrowDown', 0), -1);
  });
});
