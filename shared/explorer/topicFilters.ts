import { parseTopicFilter } from '../topicFilter.js';

/**
 * Filter relations the topic explorer needs and shared/topicFilter.ts does not have. Written here
 * because no MQTT library answers "does filter A cover every topic filter B matches".
 */

/**
 * True when every topic that `inner` matches is matched by `outer` too (`#` covers `a/b`, `a/+`
 * covers `a/b` but not `a/#`). Both are plain MQTT filters (`$share/` prefixes are not compared).
 * A wildcard in the first level never covers topics starting with `$` (MQTT 4.7.2).
 */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const i = inner.split('/');
  for (let k = 0; k < o.length; k++) {
    const level = o[k] as string;
    if (level === '#') {
      if (k === 0 && i[0] !== undefined && i[0].startsWith('$')) return false;
      return true;
    }
    const other = i[k];
    if (other === undefined) return false;
    if (level === '+') {
      if (other === '#') return false;
      if (k === 0 && other.startsWith('$')) return false;
      continue;
    }
    if (other !== level) return false;
  }
  return o.length === i.length;
}

/**
 * The filters worth subscribing: duplicates and filters covered by another one removed, so an
 * overlap such as `#` with `a/b` does not deliver (and count) a message twice. Order is kept.
 */
export function minimalFilters(filters: readonly string[]): string[] {
  const unique = [...new Set(filters)];
  return unique.filter(
    (f, index) =>
      !unique.some((other, j) => j !== index && filterCovers(other, f) && (!filterCovers(f, other) || j < index)),
  );
}

/** Why `filter` is not a usable subscription filter, or undefined when it is (named wildcards are not allowed here). */
export function filterProblem(filter: string): string | undefined {
  if (filter.includes('{') || filter.includes('}')) return `"${filter}": named wildcards are for flows; use + or #`;
  try {
    parseTopicFilter(filter);
    return undefined;
  } catch (error) {
    return `"${filter}": ${(error as Error).message}`;
  }
}

/** True when `topic` is `root` or lies under it (`root/...`). */
export function isUnder(topic: string, root: string): boolean {
  return (
    topic === root || (topic.length > root.length && topic.startsWith(root) && topic.charCodeAt(root.length) === 47)
  );
}
