/**
 * MQTT topic filters with named wildcards.
 *
 * A filter such as `{area}/{device}/#` is sent to the broker as `+/+/#`; when a message arrives
 * on `plant1/pump-7/temperature` the names capture `{ area: "plant1", device: "pump-7" }`.
 * Written here because no MQTT library both matches filters and names their levels.
 */

export interface TopicFilter {
  /** The filter as written, with names. */
  readonly source: string;
  /** The filter as the broker sees it (`+` for each `{name}`), including any `$share/group/`. */
  readonly mqtt: string;
  /** The levels matched against topics (without the `$share/group/` prefix). */
  readonly levels: readonly string[];
  /** Name of each `+` level by index, or undefined for anonymous `+` / literal levels. */
  readonly names: readonly (string | undefined)[];
  /** Name given to the `#` remainder (`{rest#}`), if any. */
  readonly restName: string | undefined;
}

const NAMED_LEVEL = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const NAMED_REST = /^\{([A-Za-z_][A-Za-z0-9_]*)#\}$/;

/** Parses a filter; throws an Error that says which level is wrong. */
export function parseTopicFilter(source: string): TopicFilter {
  if (source.length === 0) throw new Error('topic filter is empty');
  if (source.includes('\u0000')) throw new Error('topic filter contains a NUL character');
  let prefix = '';
  let body = source;
  if (source.startsWith('$share/')) {
    const parts = source.split('/');
    if (parts.length < 3 || !parts[1]) {
      throw new Error(`shared subscription "${source}" must look like $share/<group>/<filter>`);
    }
    prefix = `$share/${parts[1]}/`;
    body = parts.slice(2).join('/');
  }
  const raw = body.split('/');
  const levels: string[] = [];
  const names: (string | undefined)[] = [];
  let restName: string | undefined;
  const seen = new Set<string>();
  raw.forEach((level, i) => {
    const isLast = i === raw.length - 1;
    const named = NAMED_LEVEL.exec(level);
    const rest = NAMED_REST.exec(level);
    if (named) {
      const name = named[1] as string;
      if (seen.has(name)) throw new Error(`wildcard name {${name}} is used twice`);
      seen.add(name);
      levels.push('+');
      names.push(name);
    } else if (rest || level === '#') {
      if (!isLast) throw new Error(`"#" must be the last level (level ${i + 1} of "${source}")`);
      if (rest) {
        restName = rest[1] as string;
        if (seen.has(restName)) throw new Error(`wildcard name {${restName}#} is used twice`);
      }
      levels.push('#');
      names.push(undefined);
    } else if (level === '+') {
      levels.push('+');
      names.push(undefined);
    } else {
      if (level.includes('+') || level.includes('#')) {
        throw new Error(`"${level}" mixes a wildcard with text; "+" and "#" must fill a whole level`);
      }
      if (level.includes('{') || level.includes('}')) {
        throw new Error(`"${level}" is not a valid named wildcard; use {name} or {name#}`);
      }
      levels.push(level);
      names.push(undefined);
    }
  });
  return { source, mqtt: prefix + levels.join('/'), levels, names, restName };
}

/**
 * Matches a topic against a parsed filter and returns the named parameters, or undefined when
 * the topic does not match. Follows MQTT rules: `+` matches one level, `#` the rest (including
 * the parent level), and wildcards at the first level do not match topics starting with `$`.
 */
export function matchTopic(filter: TopicFilter, topic: string): Record<string, string> | undefined {
  const { levels, names } = filter;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  let start = 0;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level === '#') {
      if (i === 0 && topic.charCodeAt(0) === 36 /* $ */) return undefined;
      if (filter.restName !== undefined) params[filter.restName] = start <= topic.length ? topic.slice(start) : '';
      return params;
    }
    if (start > topic.length) return undefined;
    let end = topic.indexOf('/', start);
    if (end === -1) end = topic.length;
    if (level === '+') {
      if (i === 0 && topic.charCodeAt(0) === 36) return undefined;
      const name = names[i];
      if (name !== undefined) params[name] = topic.slice(start, end);
    } else if (end - start !== level.length || !topic.startsWith(level, start)) {
      return undefined;
    }
    start = end + 1;
  }
  return start === topic.length + 1 ? params : undefined;
}

/** True when `topic` is a valid topic name to publish to (no wildcards, not empty). */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}
