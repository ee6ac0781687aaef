/**
 * Turns a node's config JSON Schema (as the catalog ships it) and its current value into a flat
 * field model the inspector renders as a form. Pure and DOM-free; anything the model does not
 * know becomes a `json` field edited as raw JSON.
 */

export type FieldKind =
  'text' | 'number' | 'integer' | 'boolean' | 'enum' | 'string-list' | 'record' | 'object-list' | 'json';

export type EnumOption = string | number | boolean | null;

export interface FormField {
  readonly key: string;
  /** JSON pointer of the field inside the config ("/table", "/columns"). */
  readonly pointer: string;
  readonly kind: FieldKind;
  readonly label: string;
  readonly description?: string | undefined;
  readonly default?: unknown;
  readonly examples?: readonly unknown[] | undefined;
  readonly required: boolean;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly pattern?: string | undefined;
  /** The field (or, for records and lists, each of its values) holds a secret. */
  readonly secret: boolean;
  /** enum: the allowed values; string-list: the allowed items, when they are an enum. */
  readonly options?: readonly EnumOption[] | undefined;
  /** object-list: the columns of a row (pointers relative to the row). */
  readonly columns?: readonly FormField[] | undefined;
  /** The current value; undefined when unset. */
  readonly value: unknown;
}

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** "maxPayloadBytes" → "Max payload bytes". */
export function labelFor(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  const cased = words.replace(/\b(qos|url|id|json|http)\b/g, (word) => ACRONYMS[word] ?? word);
  return cased.charAt(0).toUpperCase() + cased.slice(1);
}

const ACRONYMS: Readonly<Record<string, string>> = { qos: 'QoS', url: 'URL', id: 'ID', json: 'JSON', http: 'HTTP' };

/** The values of an enum written as `enum` or as `anyOf`/`oneOf` of `const`s; undefined otherwise. */
export function enumOptions(schema: unknown): EnumOption[] | undefined {
  if (!isObject(schema)) return undefined;
  if (Array.isArray(schema['enum'])) return schema['enum'] as EnumOption[];
  if ('const' in schema) return [schema['const'] as EnumOption];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list) && list.length > 0 && list.every((s) => isObject(s) && 'const' in s)) {
      return list.map((s) => (s as Schema)['const'] as EnumOption);
    }
  }
  return undefined;
}

function schemaType(schema: Schema): string | undefined {
  const type = schema['type'];
  return typeof type === 'string' ? type : undefined;
}

/** The schema of a record's values (`additionalProperties` or a single `patternProperties`), if it is one. */
function recordValueSchema(schema: Schema): Schema | undefined {
  if (schemaType(schema) !== 'object' || isObject(schema['properties'])) return undefined;
  const additional = schema['additionalProperties'];
  if (isObject(additional)) return additional;
  const patterns = schema['patternProperties'];
  if (isObject(patterns)) {
    const values = Object.values(patterns);
    if (values.length === 1 && isObject(values[0])) return values[0];
  }
  return undefined;
}

/** Whether a secrets pointer ("/secretHeaders/*") covers a field pointer, or any value below it. */
function secretCovers(secrets: readonly string[], pointer: string): boolean {
  return secrets.some((secret) => {
    if (secret === pointer) return true;
    // A wildcard right below the field: the field's values are secrets.
    return secret.startsWith(`${pointer}/`) && /^\/\*$/.test(secret.slice(pointer.length));
  });
}

function fieldKind(schema: Schema): Pick<FormField, 'kind' | 'options' | 'columns'> {
  const options = enumOptions(schema);
  if (options) return { kind: 'enum', options };
  const type = schemaType(schema);
  if (type === 'string') return { kind: 'text' };
  if (type === 'integer') return { kind: 'integer' };
  if (type === 'number') return { kind: 'number' };
  if (type === 'boolean') return { kind: 'boolean' };
  if (type === 'array' && isObject(schema['items'])) {
    const items = schema['items'];
    const itemOptions = enumOptions(items);
    if (itemOptions?.every((o) => typeof o === 'string')) return { kind: 'string-list', options: itemOptions };
    if (schemaType(items) === 'string') return { kind: 'string-list' };
    if (schemaType(items) === 'object' && isObject(items['properties'])) {
      return { kind: 'object-list', columns: buildFields(items, undefined, []) };
    }
  }
  if (type === 'object') {
    const values = recordValueSchema(schema);
    if (values && schemaType(values) === 'string' && !enumOptions(values)) return { kind: 'record' };
  }
  return { kind: 'json' };
}

/**
 * The fields of an object schema, in the schema's property order, with `value`'s current values.
 * `secrets` are the catalog's secret pointers ("/token", "/secretHeaders/*"), relative to `schema`.
 */
export function buildFields(schema: unknown, value: unknown, secrets: readonly string[]): FormField[] {
  if (!isObject(schema) || !isObject(schema['properties'])) return [];
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  const current = isObject(value) ? value : {};
  return Object.entries(schema['properties']).map(([key, sub]): FormField => {
    const s: Schema = isObject(sub) ? sub : {};
    const pointer = `/${escapePointer(key)}`;
    const kind = fieldKind(s);
    const numeric = kind.kind === 'integer' || kind.kind === 'number';
    const minimum = typeof s['minimum'] === 'number' ? s['minimum'] : undefined;
    const maximum = typeof s['maximum'] === 'number' ? s['maximum'] : undefined;
    return {
      key,
      pointer,
      ...kind,
      label: typeof s['title'] === 'string' ? s['title'] : labelFor(key),
      description: typeof s['description'] === 'string' ? s['description'] : undefined,
      default: s['default'],
      examples: Array.isArray(s['examples']) ? (s['examples'] as unknown[]) : undefined,
      required: required.has(key),
      min: numeric ? minimum : undefined,
      max: numeric ? maximum : undefined,
      pattern: typeof s['pattern'] === 'string' ? s['pattern'] : undefined,
      secret: s['secret'] === true || secretCovers(secrets, pointer),
      value: current[key],
    };
  });
}

/** Whether a string is (or contains) a `${env:NAME}` / `${secret:NAME}` reference. */
export function isReference(value: unknown): boolean {
  return typeof value === 'string' && /\$\{(env|secret):[^}]+\}/.test(value);
}

/** The pointer inside the node's config of a document-level problem pointer, or undefined when outside it. */
export function configPointer(pointer: string): string | undefined {
  const match = /^\/nodes\/\d+\/config(\/.*)?$/.exec(pointer);
  return match ? (match[1] ?? '') : undefined;
}

export interface FieldProblem {
  /** Pointer below the field ("" for the field itself, "/0/name" inside a list). */
  readonly at: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/**
 * Groups problems by the config field they fall in: key → problems. Problems on the config as a
 * whole land under "". Problems outside the node's config are left out.
 */
export function problemsByField(
  problems: readonly { readonly pointer: string; readonly message: string; readonly severity: 'error' | 'warning' }[],
  /** The pointer below the form's object, or undefined for problems elsewhere; default: a node's config. */
  inside: (pointer: string) => string | undefined = configPointer,
): Map<string, FieldProblem[]> {
  const byField = new Map<string, FieldProblem[]>();
  for (const problem of problems) {
    const inside_ = inside(problem.pointer);
    if (inside_ === undefined) continue;
    const match = /^\/([^/]*)(\/.*)?$/.exec(inside_);
    const key = match ? unescapePointer(match[1] ?? '') : '';
    const at = match ? (match[2] ?? '') : '';
    const list = byField.get(key) ?? [];
    list.push({ at, message: problem.message, severity: problem.severity });
    byField.set(key, list);
  }
  return byField;
}

/** For problemsByField: the pointer inside `/connections/<index>`, or undefined when outside it. */
export function connectionPointer(index: number): (pointer: string) => string | undefined {
  const base = `/connections/${index}`;
  return (pointer) => (pointer === base ? '' : pointer.startsWith(`${base}/`) ? pointer.slice(base.length) : undefined);
}

/** A copy of `config` with `key` set to `value`, or removed when `value` is undefined. */
export function setField(config: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const next = { ...config };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

/**
 * The number typed into a number input: undefined for an empty input (the field is unset), NaN
 * when the text is not a number (the caller keeps the text and says so).
 */
export function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : Number.NaN;
}

/** A new row of an object list: each column's default, else an empty value of its kind for required columns. */
export function newRow(columns: readonly FormField[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const column of columns) {
    if (column.default !== undefined) row[column.key] = structuredClone(column.default);
    else if (!column.required) continue;
    else if (column.kind === 'boolean') row[column.key] = false;
    else if (column.kind === 'enum') row[column.key] = column.options?.[0];
    else if (column.kind === 'text') row[column.key] = '';
  }
  return row;
}

/**
 * Whether a field holds a JSONata expression (transform `expression`, filter `predicate`, the
 * outbox's `priorityFrom`): a string field the catalog describes as one. The node schemas carry no
 * separate marker, and each of them starts its description with "JSONata expression".
 */
export function isExpressionField(field: Pick<FormField, 'kind' | 'description'>): boolean {
  return field.kind === 'text' && /^JSONata expression\b/.test(field.description ?? '');
}

/**
 * Turns a node's `connection` text field into a choice of the flow's connection ids. A value that
 * names no connection stays among the choices, so the form shows it (validation names the problem).
 */
export function withConnectionChoices(fields: readonly FormField[], connectionIds: readonly string[]): FormField[] {
  return fields.map((field) => {
    if (field.key !== 'connection' || field.kind !== 'text') return field;
    const current = typeof field.value === 'string' && field.value !== '' ? [field.value] : [];
    const options = [...new Set([...connectionIds, ...current])];
    return { ...field, kind: 'enum', options };
  });
}

/**
 * Inline problems of a form whose secret fields must hold references only: a literal in a secret
 * field (or in a secret record's values) is an error at that field. Keyed as problemsByField.
 */
export function literalSecretProblems(fields: readonly FormField[]): Map<string, FieldProblem[]> {
  const byField = new Map<string, FieldProblem[]>();
  const literal = (value: unknown) => typeof value === 'string' && value !== '' && !isOnlyReferences(value);
  for (const field of fields) {
    if (!field.secret) continue;
    const values: [string, unknown][] =
      typeof field.value === 'object' && field.value !== null && !Array.isArray(field.value)
        ? Object.entries(field.value as Record<string, unknown>).map(([k, v]) => [`/${escapePointer(k)}`, v])
        : [['', field.value]];
    for (const [at, value] of values) {
      if (!literal(value)) continue;
      const list = byField.get(field.key) ?? [];
      list.push({
        at,
        severity: 'error',
        message: 'a secret takes a reference only, such as ${env:MQTT_PASSWORD} or ${secret:MQTT_PASSWORD}',
      });
      byField.set(field.key, list);
    }
  }
  return byField;
}

/** shared/references.ts's pattern; repeated because this module's unit tests compile without shared's runtime. */
const REFERENCE = /\$\{(env|secret):([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** True when a secret's text holds references without fallbacks: the rule export applies (shared/flow/exportFlow.ts). */
export function isOnlyReferences(value: string): boolean {
  const found = [...value.matchAll(REFERENCE)];
  return found.length > 0 && found.every((m) => m[3] === undefined);
}

/** Merges problem maps (as problemsByField returns) into one. */
export function mergeProblems(
  ...maps: readonly ReadonlyMap<string, readonly FieldProblem[]>[]
): Map<string, FieldProblem[]> {
  const merged = new Map<string, FieldProblem[]>();
  for (const map of maps) for (const [key, list] of map) merged.set(key, [...(merged.get(key) ?? []), ...list]);
  return merged;
}
