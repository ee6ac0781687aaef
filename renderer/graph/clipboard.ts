import {
  FLOW_NODE_TYPE,
  NODE_INITIAL_HEIGHT,
  NODE_WIDTH,
  uniqueId,
  type CanvasEdge,
  type CanvasNode,
} from './flowGraph.js';

/**
 * Copy/paste of canvas selections as plain JSON. DOM-free: the store decides where the text goes
 * (the system clipboard when allowed, else memory); this module builds, parses and remaps it.
 */

export const CLIPBOARD_FORMAT = 'topicflow/clipboard@1';
/** How far each paste lands from the copied nodes (and from the previous paste). */
export const PASTE_OFFSET = 40;

export interface ClipboardNode {
  readonly id: string;
  readonly type: string;
  readonly name?: string | undefined;
  readonly config: Record<string, unknown>;
  readonly position: { readonly x: number; readonly y: number };
}

export interface ClipboardEdge {
  readonly source: string;
  readonly sourceHandle: string;
  readonly target: string;
  readonly targetHandle: string;
}

export interface ClipboardPayload {
  readonly format: typeof CLIPBOARD_FORMAT;
  readonly nodes: readonly ClipboardNode[];
  readonly edges: readonly ClipboardEdge[];
}

/** The selected nodes and the edges between them (edges to unselected nodes are left out). */
export function copySelection(
  nodes: readonly CanvasNode[],
  edges: readonly CanvasEdge[],
  selectedIds: Iterable<string>,
): ClipboardPayload | undefined {
  const ids = new Set(selectedIds);
  const picked = nodes.filter((n) => ids.has(n.id));
  if (picked.length === 0) return undefined;
  const clipNodes = picked.map((n): ClipboardNode => ({
    id: n.id,
    type: n.data.type,
    ...(n.data.name === undefined ? {} : { name: n.data.name }),
    config: JSON.parse(JSON.stringify(n.data.config)) as Record<string, unknown>,
    position: { x: n.position.x, y: n.position.y },
  }));
  const clipEdges = edges
    .filter((e) => ids.has(e.source) && ids.has(e.target))
    .map((e): ClipboardEdge => ({
      source: e.source,
      sourceHandle: e.sourceHandle,
      target: e.target,
      targetHandle: e.targetHandle,
    }));
  return { format: CLIPBOARD_FORMAT, nodes: clipNodes, edges: clipEdges };
}

export function serializeClipboard(payload: ClipboardPayload): string {
  return JSON.stringify(payload);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The payload in `text`, or undefined when it is not TopicFlow clipboard JSON. */
export function parseClipboard(text: string): ClipboardPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value['format'] !== CLIPBOARD_FORMAT) return undefined;
  const { nodes, edges } = value;
  if (!Array.isArray(nodes) || !Array.isArray(edges)) return undefined;
  const nodesOk = nodes.every(
    (n) =>
      isRecord(n) &&
      typeof n['id'] === 'string' &&
      typeof n['type'] === 'string' &&
      (n['name'] === undefined || typeof n['name'] === 'string') &&
      isRecord(n['config']) &&
      isRecord(n['position']) &&
      typeof n['position']['x'] === 'number' &&
      typeof n['position']['y'] === 'number',
  );
  const edgesOk = edges.every(
    (e) =>
      isRecord(e) && ['source', 'sourceHandle', 'target', 'targetHandle'].every((key) => typeof e[key] === 'string'),
  );
  if (!nodesOk || !edgesOk || nodes.length === 0) return undefined;
  return value as unknown as ClipboardPayload;
}

/**
 * The nodes and edges a paste adds: fresh ids unique against `existing` (`<type>-<n>`), positions
 * shifted by `offset`, edges remapped onto the new ids, and the new nodes selected.
 */
export function pastePayload(
  payload: ClipboardPayload,
  existing: { readonly nodes: readonly CanvasNode[]; readonly edges: readonly CanvasEdge[] },
  offset: { readonly x: number; readonly y: number },
): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const nodeIds = new Set(existing.nodes.map((n) => n.id));
  const edgeIds = new Set(existing.edges.map((e) => e.id));
  const idMap = new Map<string, string>();
  const nodes = payload.nodes.map((n): CanvasNode => {
    const id = uniqueId(n.type, nodeIds);
    nodeIds.add(id);
    idMap.set(n.id, id);
    return {
      id,
      type: FLOW_NODE_TYPE,
      position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
      data: {
        type: n.type,
        ...(n.name === undefined ? {} : { name: n.name }),
        config: JSON.parse(JSON.stringify(n.config)) as Record<string, unknown>,
      },
      selected: true,
      initialWidth: NODE_WIDTH,
      initialHeight: NODE_INITIAL_HEIGHT,
    };
  });
  const edges: CanvasEdge[] = [];
  for (const e of payload.edges) {
    const source = idMap.get(e.source);
    const target = idMap.get(e.target);
    if (source === undefined || target === undefined) continue;
    const id = uniqueId('e', edgeIds);
    edgeIds.add(id);
    edges.push({ id, source, sourceHandle: e.sourceHandle, target, targetHandle: e.targetHandle });
  }
  return { nodes, edges };
}
