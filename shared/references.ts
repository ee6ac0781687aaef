/**
 * Secret and environment references inside flow documents.
 *
 * `${env:NAME}` reads NAME from the environment (or an env file) when the flow runs headless;
 * `${env:NAME:-fallback}` uses the fallback when NAME is unset (not allowed in secret fields,
 * where a fallback would be a literal secret). `${secret:NAME}` names a secret kept outside the
 * file (the desktop keychain; headless, the environment variable NAME).
 */

export interface Reference {
  readonly kind: 'env' | 'secret';
  readonly name: string;
  readonly fallback: string | undefined;
  /** The whole `${...}` text. */
  readonly text: string;
}

const REFERENCE = /\$\{(env|secret):([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function findReferences(value: string): Reference[] {
  const found: Reference[] = [];
  for (const m of value.matchAll(REFERENCE)) {
    found.push({ kind: m[1] as 'env' | 'secret', name: m[2] as string, fallback: m[3], text: m[0] });
  }
  return found;
}

export function hasReference(value: string): boolean {
  REFERENCE.lastIndex = 0;
  return value.search(REFERENCE) !== -1;
}

/** Replaces every reference using `lookup`; throws naming the first reference it cannot resolve. */
export function resolveReferences(value: string, lookup: (name: string) => string | undefined): string {
  return value.replace(REFERENCE, (text, kind: string, name: string, fallback: string | undefined) => {
    const resolved = lookup(name);
    if (resolved !== undefined) return resolved;
    if (fallback !== undefined && kind === 'env') return fallback;
    throw new Error(`${text} is not set`);
  });
}

/** Deep-maps every string in a JSON value through `map` (objects and arrays are copied). */
export function mapStrings(value: unknown, map: (s: string, pointer: string) => string, pointer = ''): unknown {
  if (typeof value === 'string') return map(value, pointer);
  if (Array.isArray(value)) return value.map((v, i) => mapStrings(v, map, `${pointer}/${i}`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapStrings(v, map, `${pointer}/${escapePointer(k)}`);
    return out;
  }
  return value;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
