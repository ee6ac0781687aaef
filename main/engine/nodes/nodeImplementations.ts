import type { NodeImplementation } from '../runtime/nodeRuntime.js';
import { debugNode } from './debugNode.js';
import { filterNode } from './filterNode.js';
import { httpPostNode } from './httpPostNode.js';
import { mqttInNode } from './mqttInNode.js';
import { mqttOutNode } from './mqttOutNode.js';
import { simulatorNode } from './simulatorNode.js';
import { sqliteSinkNode } from './sqliteSinkNode.js';
import { transformNode } from './transformNode.js';
import { validateNode } from './validateNode.js';

/** The runtime half of every node type in shared/nodes/catalog.ts, as an explicit list. */
export const NODE_IMPLEMENTATIONS: readonly NodeImplementation[] = [
  mqttInNode,
  simulatorNode,
  validateNode,
  transformNode,
  filterNode,
  sqliteSinkNode,
  mqttOutNode,
  httpPostNode,
  debugNode,
] as unknown as NodeImplementation[];

const BY_TYPE = new Map(NODE_IMPLEMENTATIONS.map((i) => [i.spec.type, i]));

export function getNodeImplementation(type: string): NodeImplementation | undefined {
  return BY_TYPE.get(type);
}
