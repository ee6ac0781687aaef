import { useReactFlow } from '@xyflow/react';
import { memo, useId, useMemo, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { CatalogNode } from '../../shared/protocol/protocol.js';
import { moveActive, paletteGroups, visibleOrder } from '../graph/palette.js';
import { addNode, useEditor } from '../store.js';
import { CATEGORY_LABEL, DRAG_TYPE } from './categories.js';
import { CategoryIcon } from './CategoryIcon.js';

type FlowApi = ReturnType<typeof useReactFlow>;

/** Adds a node near the middle of the visible canvas, staggered so repeated adds do not stack. */
function addAtViewportCentre(flow: FlowApi, type: string): void {
  const pane = document.querySelector('.react-flow')?.getBoundingClientRect();
  const count = useEditor.getState().nodes.length;
  const center = pane
    ? flow.screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 3 })
    : { x: 0, y: 0 };
  addNode(type, { x: center.x - 90 + (count % 5) * 24, y: center.y + (count % 5) * 24 });
}

/**
 * Node types from `catalog.get`, grouped by category, searchable. Drag onto the canvas or click
 * to add; from the search box, the arrow keys walk the list, Enter adds, Escape clears the search
 * (a combobox with a listbox, so a screen reader follows the active item).
 */
export function Palette() {
  const catalog = useEditor((s) => s.catalog);
  const flow = useReactFlow();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(-1);
  const listId = useId();
  const groups = useMemo(() => paletteGroups(catalog, query), [catalog, query]);
  const order = useMemo(() => visibleOrder(groups), [groups]);
  const activeIndex = Math.min(active, order.length - 1);
  const activeType = activeIndex >= 0 ? order[activeIndex]?.type : undefined;
  const optionId = (type: string) => `${listId}-${type}`;

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (['ArrowDown', 'ArrowUp'].includes(event.key) || (activeIndex >= 0 && ['Home', 'End'].includes(event.key))) {
      event.preventDefault();
      const next = moveActive(activeIndex, event.key, order.length);
      setActive(next);
      const type = next >= 0 ? order[next]?.type : undefined;
      if (type) document.getElementById(optionId(type))?.scrollIntoView({ block: 'nearest' });
    } else if (event.key === 'Enter') {
      event.preventDefault();
      // With no item chosen yet, Enter takes the first match (type, then Enter).
      const type = activeType ?? order[0]?.type;
      if (type) addAtViewportCentre(flow, type);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      setQuery('');
      setActive(-1);
    }
  };

  return (
    <aside className="palette" aria-label="Node palette">
      <input
        className="search"
        type="search"
        role="combobox"
        placeholder="Search nodes…"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(-1);
        }}
        onKeyDown={onKeyDown}
        aria-label="Search nodes"
        aria-controls={listId}
        aria-expanded={order.length > 0}
        aria-autocomplete="list"
        aria-activedescendant={activeType ? optionId(activeType) : undefined}
        title="↑/↓ choose, Enter adds at the centre of the view, Escape clears"
      />
      <div className="palette-list" id={listId} role="listbox" aria-label="Node types">
        {catalog.length === 0 && <p className="muted">Loading node types…</p>}
        {catalog.length > 0 && groups.length === 0 && <p className="muted">No node matches “{query}”.</p>}
        {groups.map((group) => (
          <div key={group.category} role="group" aria-labelledby={`${listId}-${group.category}`}>
            <h3 className="palette-group" id={`${listId}-${group.category}`}>
              <CategoryIcon category={group.category} />
              {CATEGORY_LABEL[group.category]}
            </h3>
            {group.nodes.map((node) => (
              <PaletteItem
                key={node.type}
                node={node}
                id={optionId(node.type)}
                active={node.type === activeType}
                flow={flow}
              />
            ))}
          </div>
        ))}
      </div>
    </aside>
  );
}

const PaletteItem = memo(function PaletteItem({
  node,
  id,
  active,
  flow,
}: {
  node: CatalogNode;
  id: string;
  active: boolean;
  flow: FlowApi;
}) {
  const onDragStart = (event: DragEvent) => {
    event.dataTransfer.setData(DRAG_TYPE, node.type);
    event.dataTransfer.effectAllowed = 'move';
  };
  return (
    <div
      id={id}
      role="option"
      aria-selected={active}
      tabIndex={-1}
      className={`palette-item cat-${node.category}${active ? ' active' : ''}`}
      draggable
      onDragStart={onDragStart}
      onClick={() => addAtViewportCentre(flow, node.type)}
      title={node.summary}
      data-type={node.type}
    >
      <CategoryIcon category={node.category} />
      <span className="palette-title">{node.title}</span>
      <span className="palette-type">{node.type}</span>
    </div>
  );
});
