import type { NodeSpec } from './nodeSpec.js';
import { debugSpec } from './debug.js';
import { filterSpec } from './filter.js';
import { httpPostSpec } from './httpPost.js';
import { mqttInSpec } from './mqttIn.js';
import { mqttOutSpec } from './mqttOut.js';
import { simulatorSpec } from './simulator.js';
import { sqliteSinkSpec } from './sqliteSink.js';
import { transformSpec } from './transform.js';
import { validateSpec } from './validate.js';

/** Every node type, in palette order. An explicit list: no registration by import side effects. */
export const NODE_SPECS: readonly NodeSpec[] = [
  mqttInSpec,
  simulatorSpec,
  validateSpec,
  transformSpec,
  filterSpec,
  sqliteSinkSpec,
  mqttOutSpec,
  httpPostSpec,
  debugSpec,
];

const BY_TYPE = new Map(NODE_SPECS.map((spec) => [spec.type, spec]));

export function getNodeSpec(type: string): NodeSpec | undefined {
  return BY_TYPE.get(type);
}

/** JSON pointers (with `*` for any key or index) of the secret fields of a schema. */
export function secretPaths(schema: unknown, pointer = ''): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  const found: string[] = s['secret'] === true ? [pointer] : [];
  const props = s['properties'];
  if (props && typeof props === 'object') {
    for (const [key, sub] of Object.entries(props)) found.push(...secretPaths(sub, `${pointer}/${key}`));
  }
  for (const key of ['additionalProperties', 'items'] as const) {
    if (s[key] && typeof s[key] === 'object') found.push(...secretPaths(s[key], `${pointer}/*`));
  }
  const patterns = s['patternProperties'];
  if (patterns && typeof patterns === 'object') {
    for (const sub of Object.values(patterns)) found.push(...secretPaths(sub, `${pointer}/*`));
  }
  return found;
}
