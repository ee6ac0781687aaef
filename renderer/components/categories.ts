import type { NodeCategory } from '../../shared/nodes/nodeSpec.js';

export const CATEGORY_ORDER: readonly NodeCategory[] = ['source', 'process', 'sink'];

export const CATEGORY_LABEL: Record<NodeCategory, string> = {
  source: 'Sources',
  process: 'Process',
  sink: 'Sinks',
};

/** The data type a palette item carries when dragged onto the canvas. */
export const DRAG_TYPE = 'application/x-topicflow-node';
