/**
 * Topic templates for publishing: `alerts/{params.device}` or `archive/{topic}`. Each `{path}`
 * names a message field; parsing happens once, filling in is a loop over the parts.
 */

export type TemplatePart = string | readonly string[];

const PLACEHOLDER = /\{([^{}]*)\}/g;
const PATH = /^(topic|id|seq|params\.[^.]+|payload(\.[^.]+)*)$/;

export function parseTopicTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const path = (m[1] as string).trim();
    if (!PATH.test(path)) {
      throw new Error(`{${path}} is not a message field; use {topic}, {params.NAME} or {payload.FIELD}`);
    }
    if (m.index > last) parts.push(template.slice(last, m.index));
    parts.push(path.split('.'));
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  const literal = parts.filter((p) => typeof p === 'string').join('');
  if (literal.includes('{') || literal.includes('}')) throw new Error('unbalanced "{" or "}" in topic template');
  if (literal.includes('+') || literal.includes('#'))
    throw new Error('a topic to publish to cannot contain "+" or "#"');
  return parts;
}

/** Reads a dotted path from an object; undefined when any step is missing. */
export function readPath(root: unknown, path: readonly string[], from = 0): unknown {
  let value: unknown = root;
  for (let i = from; i < path.length; i++) {
    if (value === null || typeof value !== 'object') return undefined;
    const key = path[i] as string;
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function fillTopicTemplate(parts: readonly TemplatePart[], message: unknown): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = readPath(message, part);
    if (value === undefined || value === null || typeof value === 'object') {
      throw new Error(`topic template: {${part.join('.')}} has no text value in this message`);
    }
    const text = String(value);
    if (text.includes('/') && part[0] !== 'topic') {
      // A value with "/" would silently add topic levels; refuse rather than surprise.
      throw new Error(`topic template: {${part.join('.')}} = "${text}" contains "/"`);
    }
    out += text;
  }
  return out;
}
