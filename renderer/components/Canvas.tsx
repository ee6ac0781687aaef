import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Edge,
  type IsValidConnection,
  type Node,
  type NodeTypes,
} from '@xyflow/react';
import { useCallback, useEffect, type DragEvent } from 'react';
import type { FlowNodeData } from '../graph/flowGraph.js';
import {
  addNode,
  canConnect,
  connect,
  onEdgesChange,
  onNodeDragStart,
  onNodeDragStop,
  onNodesChange,
  selectNode,
  useEditor,
} from '../store.js';
import { DRAG_TYPE } from './categories.js';
import { FlowNodeView } from './FlowNodeView.js';

/** Defined once at module scope: a new object per render would remount every node. */
const nodeTypes: NodeTypes = { flowNode: FlowNodeView };
const DELETE_KEYS = ['Delete', 'Backspace'];
const FIT_VIEW_OPTIONS = { maxZoom: 1.2, padding: 0.3 };
// Props React Flow compares by identity: built once, so a canvas render (one per drag move)
// does not push "changed" options into React Flow's store.
const PRO_OPTIONS = { hideAttribution: true };
const DEFAULT_EDGE_OPTIONS = { animated: false };
const onPaneClick = () => selectNode(undefined);

const isValidConnection: IsValidConnection = (connection) => canConnect(connection);

function minimapColor(node: Node): string {
  const category = useEditor.getState().catalogByType[(node.data as FlowNodeData).type]?.category;
  return category === 'source' ? '#2f9e6e' : category === 'sink' ? '#c2662d' : '#4b6bd6';
}

export function Canvas() {
  const nodes = useEditor((s) => s.nodes) as unknown as Node<FlowNodeData>[];
  const edges = useEditor((s) => s.edges) as unknown as Edge[];
  const loads = useEditor((s) => s.loads);
  const layouts = useEditor((s) => s.layouts);
  const fits = useEditor((s) => s.fits);
  const flow = useReactFlow();

  // Fit an opened document once its nodes are measured; never when nodes are added by hand
  // (the `fitView` prop would re-fit as the first node lands on an empty canvas).
  useEffect(() => {
    if (loads > 0) void flow.fitView(FIT_VIEW_OPTIONS);
  }, [loads, flow]);
  // After an auto-layout, show the whole flow at its new positions.
  useEffect(() => {
    if (layouts > 0) void flow.fitView(FIT_VIEW_OPTIONS);
  }, [layouts, flow]);

  // Menu View > Fit.
  useEffect(() => {
    if (fits > 0) void flow.fitView(FIT_VIEW_OPTIONS);
  }, [fits, flow]);

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
  }, []);
  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_TYPE);
      if (!type) return;
      event.preventDefault();
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addNode(type, { x: position.x - 90, y: position.y - 30 });
    },
    [flow],
  );

  return (
    <main className="canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStart={onNodeDragStart}
        onNodeDragStop={onNodeDragStop}
        onConnect={connect}
        isValidConnection={isValidConnection}
        onPaneClick={onPaneClick}
        deleteKeyCode={DELETE_KEYS}
        colorMode="system"
        proOptions={PRO_OPTIONS}
        defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
        // Nodes and edges outside the view are not mounted, so a large flow zoomed in stays light.
        // Each node carries an initial size (graph/flowGraph.ts): without it an unmounted node is
        // never measured and fitView left it out.
        onlyRenderVisibleElements
        aria-label="Flow canvas"
      >
        <Background variant={BackgroundVariant.Dots} gap={16} size={1} />
        {nodes.length > 0 && <MiniMap pannable zoomable nodeColor={minimapColor} />}
        <Controls />
      </ReactFlow>
      {nodes.length === 0 && (
        <div className="canvas-empty">Drag a node from the palette (or click it) to start a flow.</div>
      )}
    </main>
  );
}
