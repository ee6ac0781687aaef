import { getNodeSpec, secretPaths } from '../nodes/catalog.js';
import { escapePointer, findReferences, hasReference, mapStrings } from '../references.js';
import { ConnectionSchema, type FlowDocument } from './flowDocument.js';
import { validateFlowDocument, type FlowProblem, type FlowValidation } from './validateFlow.js';

/**
 * The gateway copy of a flow (`topicflow export`, `flows.export`).
 *
 * - The document must be valid (shape, graph, node configs).
 * - `layout` is dropped unless `keepLayout`: a headless gateway never draws the canvas.
 * - Every secret field (anything a schema marks `secret: true`: connection `password`, TLS
 *   `passphrase`, node config fields such as `http-post` `secretHeaders`) must hold a reference. A
 *   literal secret is refused, naming its JSON pointer and never its value; with `stripSecrets` it
 *   is replaced by `${env:NAME}`, NAME derived by {@link secretEnvName}, with a warning per field.
 * - `${secret:NAME}` (the desktop keychain) becomes `${env:NAME}`: headless, the secret comes from
 *   the environment variable NAME.
 * - `requiredEnv` lists every variable referenced without a fallback, which the gateway must set.
 *
 * The document is the author's (no defaults filled in), so the copy stays as small as the original.
 */
export interface ExportOptions {
  /** Replace literal secrets by `${env:...}` references (with a warning) instead of refusing. */
  readonly stripSecrets?: boolean;
  /** Keep the editor's `layout` (node positions). */
  readonly keepLayout?: boolean;
  /** The validation to pass (default: {@link validateFlowDocument}, without resolving references). */
  readonly check?: (document: unknown) => FlowValidation;
}

export type ExportResult =
  | {
      readonly ok: true;
      readonly document: FlowDocument;
      readonly warnings: readonly FlowProblem[];
      readonly requiredEnv: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly FlowProblem[] };

type Segment = string | number;

interface LiteralSecret {
  readonly path: readonly Segment[];
  readonly pointer: string;
  /** Node or connection id, and the field's path inside it: the parts of the derived name. */
  readonly owner: string;
  readonly field: readonly string[];
}

const CONNECTION_SECRETS = secretPaths(ConnectionSchema);

export function exportFlow(input: unknown, options: ExportOptions = {}): ExportResult {
  const check = options.check ?? ((document: unknown) => validateFlowDocument(document));
  const literals = findLiteralSecrets(input);

  if (literals.length > 0 && !options.stripSecrets) {
    const refused = literals.map((l) =>
      error(
        l.pointer,
        'holds a literal secret, which export refuses: put it in the environment and reference it as ' +
          '${env:NAME} (or ${secret:NAME}), or export with stripSecrets (--strip-secrets) to replace it by ' +
          `\${env:${secretEnvName(l.owner, l.field)}}`,
      ),
    );
    const pointers = new Set(literals.map((l) => l.pointer));
    const others = check(input).problems.filter((p) => !pointers.has(p.pointer));
    return { ok: false, problems: [...refused, ...others] };
  }

  const warnings: FlowProblem[] = [];
  let document = input;
  if (literals.length > 0) {
    const taken = new Set(referencedNames(input));
    for (const literal of literals) {
      const name = unique(secretEnvName(literal.owner, literal.field), taken);
      document = replaceAt(document, literal.path, `\${env:${name}}`);
      warnings.push(
        warning(literal.pointer, `held a literal secret; replaced by \${env:${name}}: set ${name} on the gateway`),
      );
    }
  }

  const checked = check(document);
  if (!checked.ok) return { ok: false, problems: checked.problems };
  const keep = (p: FlowProblem) => options.keepLayout || !(p.pointer === '/layout' || p.pointer.startsWith('/layout/'));
  warnings.unshift(...checked.problems.filter(keep));

  // Valid, so plain JSON of a bounded depth: the round trip is the copy.
  const flow = JSON.parse(JSON.stringify(document)) as FlowDocument;
  if (!options.keepLayout) delete flow.layout;

  const toEnv = (value: string, pointer: string): string => {
    for (const ref of findReferences(value)) {
      if (ref.kind === 'secret') {
        warnings.push(
          warning(
            pointer,
            `\${secret:${ref.name}} (the desktop keychain) becomes \${env:${ref.name}}: set ${ref.name} on the gateway`,
          ),
        );
      }
    }
    return value.replace(/\$\{secret:/g, '${env:');
  };
  flow.connections = flow.connections.map(
    (c, i) => mapStrings(c, toEnv, `/connections/${i}`) as FlowDocument['connections'][number],
  );
  flow.nodes = flow.nodes.map((n, i) =>
    n.config === undefined
      ? n
      : { ...n, config: mapStrings(n.config, toEnv, `/nodes/${i}/config`) as Record<string, unknown> },
  );

  const requiredEnv = [...new Set(referencedNames(flow, true))].sort();
  if (requiredEnv.length > 0) {
    warnings.push(warning('', requiredEnvNote(requiredEnv)));
  }
  return { ok: true, document: flow, warnings, requiredEnv };
}

/** The last warning of an export that references variables without a fallback. */
export function requiredEnvNote(requiredEnv: readonly string[]): string {
  return `the gateway must set these environment variables: ${requiredEnv.join(', ')}`;
}

/**
 * The variable a stripped literal secret becomes: `TOPICFLOW_<OWNER>_<FIELD>` in upper snake case,
 * OWNER the node or connection id, FIELD the path of the field inside it (connection `broker`'s
 * `tls.passphrase` → `TOPICFLOW_BROKER_TLS_PASSPHRASE`; node `ingest`'s `secretHeaders.Authorization`
 * → `TOPICFLOW_INGEST_SECRET_HEADERS_AUTHORIZATION`). A name already used gets `_2`, `_3`...
 */
export function secretEnvName(owner: string, field: readonly string[]): string {
  return ['TOPICFLOW', owner, ...field]
    .map(upperSnake)
    .filter((s) => s !== '')
    .join('_');
}

function upperSnake(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
}

function unique(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = `${name}_${n}`;
  taken.add(candidate);
  return candidate;
}

/** A secret field's value is fine when empty, or references only (no fallback: that would be a literal). */
function isLiteralSecret(value: unknown): boolean {
  if (typeof value !== 'string' || value === '') return false;
  return !hasReference(value) || findReferences(value).some((r) => r.fallback !== undefined);
}

function findLiteralSecrets(input: unknown): LiteralSecret[] {
  if (!isObject(input)) return [];
  const found: LiteralSecret[] = [];
  const visit = (owner: string, base: readonly Segment[], root: unknown, paths: readonly string[]): void => {
    for (const path of paths) {
      const pattern = path.split('/').slice(1);
      for (const [segments, value] of expand(root, pattern)) {
        if (!isLiteralSecret(value)) continue;
        const full = [...base, ...segments];
        found.push({
          path: full,
          pointer: full.map((s) => `/${escapePointer(String(s))}`).join(''),
          owner,
          field: segments.map(String),
        });
      }
    }
  };
  const connections = input['connections'];
  if (Array.isArray(connections)) {
    connections.forEach((c: unknown, i) => {
      if (isObject(c)) visit(idOf(c, `connection${i}`), ['connections', i], c, CONNECTION_SECRETS);
    });
  }
  const nodes = input['nodes'];
  if (Array.isArray(nodes)) {
    nodes.forEach((n: unknown, i) => {
      if (!isObject(n) || typeof n['type'] !== 'string') return;
      const spec = getNodeSpec(n['type']);
      if (spec) visit(idOf(n, `node${i}`), ['nodes', i, 'config'], n['config'], secretPaths(spec.config));
    });
  }
  return found;
}

/** The values at a secret path, `*` standing for every key or index. */
function expand(value: unknown, pattern: readonly string[], at: Segment[] = []): [Segment[], unknown][] {
  if (pattern.length === 0) return [[at, value]];
  const [head, ...rest] = pattern as [string, ...string[]];
  if (Array.isArray(value)) {
    const indices = head === '*' ? value.map((_, i) => i) : /^\d+$/.test(head) ? [Number(head)] : [];
    return indices.filter((i) => i < value.length).flatMap((i) => expand(value[i], rest, [...at, i]));
  }
  if (!isObject(value)) return [];
  const keys = head === '*' ? Object.keys(value) : Object.hasOwn(value, head) ? [head] : [];
  return keys.flatMap((k) => expand(value[k], rest, [...at, k]));
}

/** A copy of `root` with the value at `path` replaced (only the containers on the path are copied). */
function replaceAt(root: unknown, path: readonly Segment[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [Segment, ...Segment[]];
  if (Array.isArray(root)) {
    const copy = [...(root as unknown[])];
    copy[head as number] = replaceAt(copy[head as number], rest, value);
    return copy;
  }
  const copy = { ...(root as Record<string, unknown>) };
  copy[head] = replaceAt(copy[head], rest, value);
  return copy;
}

/** Names referenced in connections and node configs (with `requiredOnly`, those without a fallback). */
function referencedNames(document: unknown, requiredOnly = false): string[] {
  const names: string[] = [];
  if (!isObject(document)) return names;
  const nodes = document['nodes'];
  // Iterative: this also runs on a document not yet validated, which may be nested arbitrarily deep.
  const stack: unknown[] = [
    document['connections'],
    Array.isArray(nodes) ? nodes.map((n: unknown) => isObject(n) && n['config']) : undefined,
  ];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      for (const ref of findReferences(value)) if (!requiredOnly || ref.fallback === undefined) names.push(ref.name);
    } else if (value !== null && typeof value === 'object') {
      for (const child of Object.values(value)) stack.push(child);
    }
  }
  return names;
}

function idOf(value: Record<string, unknown>, fallback: string): string {
  return typeof value['id'] === 'string' && value['id'] !== '' ? value['id'] : fallback;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function error(pointer: string, message: string): FlowProblem {
  return { pointer, message, severity: 'error' };
}

function warning(pointer: string, message: string): FlowProblem {
  return { pointer, message, severity: 'warning' };
}
