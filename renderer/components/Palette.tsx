import { useReactFlow } from '@xyflow/react';
import { memo, useMemo, useState, type DragEvent } from 'react';
import type { CatalogNode } from '../../shared/protocol/protocol.js';
import { addNode, useEditor } from '../store.js';
import { CATEGORY_LABEL, CATEGORY_ORDER, DRAG_TYPE } from './categories.js';

/** Node types from `catalog.get`, grouped by category, searchable; drag onto the canvas or click to add. */
export function Palette() {
  const catalog = useEditor((s) => s.catalog);
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const matches = catalog.filter((n) => q === '' || `${n.type} ${n.title} ${n.summary}`.toLowerCase().includes(q));
    return CATEGORY_ORDER.map((category) => ({
      category,
      nodes: matches.filter((n) => n.category === category),
    })).filter((g) => g.nodes.length > 0);
  }, [catalog, query]);

  return (
    <aside className="palette" aria-label="Node palette">
      <input
        className="search"
        type="search"
        placeholder="Search nodes…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        aria-label="Search nodes"
      />
      <div className="palette-list">
        {catalog.length === 0 && <p className="muted">Loading node types…</p>}
        {catalog.length > 0 && groups.length === 0 && <p className="muted">No node matches “{query}”.</p>}
        {groups.map((group) => (
          <section key={group.category}>
            <h3 className="palette-group">{CATEGORY_LABEL[group.category]}</h3>
            {group.nodes.map((node) => (
              <PaletteItem key={node.type} node={node} />
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}

const PaletteItem = memo(function PaletteItem({ node }: { node: CatalogNode }) {
  const flow = useReactFlow();
  const onDragStart = (event: DragEvent) => {
    event.dataTransfer.setData(DRAG_TYPE, node.type);
    event.dataTransfer.effectAllowed = 'move';
  };
  const onClick = () => {
    // Click-to-add: near the middle of the visible canvas, staggered so nodes do not stack.
    const pane = document.querySelector('.react-flow')?.getBoundingClientRect();
    const count = useEditor.getState().nodes.length;
    const center = pane
      ? flow.screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 3 })
      : { x: 0, y: 0 };
    addNode(node.type, { x: center.x - 90 + (count % 5) * 24, y: center.y + (count % 5) * 24 });
  };
  return (
    <button
      type="button"
      className={`palette-item cat-${node.category}`}
      draggable
      onDragStart={onDragStart}
      onClick={onClick}
      title={node.summary}
      data-type={node.type}
    >
      <span className="palette-swatch" />
      <span className="palette-title">{node.title}</span>
      <span className="palette-type">{node.type}</span>
    </button>
  );
});
