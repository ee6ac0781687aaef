import type { ValidateFunction } from 'ajv';
import jsonc from 'jsonc-parser';
import { createCatalogAjv, describeAjvError } from '../catalogAjv.js';
import { NODE_SPECS, getNodeSpec } from '../nodes/catalog.js';
import { escapePointer, findReferences } from '../references.js';
import {
  FLOW_FORMAT_VERSION,
  FlowDocumentSchema,
  MAX_FLOW_FILE_BYTES,
  type FlowConnection,
  type FlowDocument,
} from './flowDocument.js';

export interface FlowProblem {
  /** JSON pointer into the document ("" = the whole document). */
  readonly pointer: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

export interface ValidateOptions {
  /**
   * Looks up `${env:NAME}` and `${secret:NAME}` references. When given, a reference without a
   * fallback that it cannot resolve is an error; when omitted, references are not checked.
   */
  readonly lookup?: (name: string) => string | undefined;
}

export type FlowValidation =
  | { readonly ok: true; readonly flow: FlowDocument; readonly problems: readonly FlowProblem[] }
  | { readonly ok: false; readonly problems: readonly FlowProblem[] };

const ajv = createCatalogAjv();
let documentValidator: ValidateFunction | undefined;
const configValidators = new Map<string, ValidateFunction>();

function configValidator(type: string): ValidateFunction | undefined {
  let validate = configValidators.get(type);
  if (!validate) {
    const spec = getNodeSpec(type);
    if (!spec) return undefined;
    validate = ajv.compile(spec.config);
    configValidators.set(type, validate);
  }
  return validate;
}

/** Parses flow text (size-checked) and validates it. */
export function parseFlowText(text: string, options: ValidateOptions = {}): FlowValidation {
  // Characters are at most 3 UTF-8 bytes each here (surrogate pairs are 2 chars for 4 bytes).
  if (text.length > MAX_FLOW_FILE_BYTES || utf8Length(text) > MAX_FLOW_FILE_BYTES) {
    return fail('', `flow file is larger than ${MAX_FLOW_FILE_BYTES} bytes`);
  }
  // JSON.parse with a reviver (and the error locator) recurse: a very deep file would overflow the stack.
  if (textDeeperThan(text, MAX_FLOW_DEPTH)) {
    return fail('', `the document is nested deeper than ${MAX_FLOW_DEPTH} levels`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text, (key: string, value: unknown) => {
      if (key === '__proto__') throw new SyntaxError('the key "__proto__" is not allowed');
      return value;
    });
  } catch (error) {
    return fail('', `not valid JSON: ${describeJsonError(text, error as Error)}`);
  }
  return validateFlowDocument(document, options);
}

/** Validates a parsed document: its shape, then the graph. Returns a defaulted copy when valid. */
export function validateFlowDocument(input: unknown, options: ValidateOptions = {}): FlowValidation {
  const versionProblem = checkFormatVersion(input);
  if (versionProblem) return { ok: false, problems: [versionProblem] };

  if (deeperThan(input, MAX_FLOW_DEPTH)) return fail('', `the document is nested deeper than ${MAX_FLOW_DEPTH} levels`);
  // The input is JSON by contract; a JSON round trip is the copy that keeps it JSON.
  const flow = JSON.parse(JSON.stringify(input)) as FlowDocument;
  documentValidator ??= ajv.compile(FlowDocumentSchema);
  if (!documentValidator(flow)) {
    const problems = (documentValidator.errors ?? []).map((e) => {
      const { path, message } = describeAjvError(e);
      return error(path, message);
    });
    return { ok: false, problems: dedupe(problems) };
  }

  const problems: FlowProblem[] = [];
  const connectionIds = checkConnections(flow.connections, problems);
  const ports = checkNodes(flow, connectionIds, problems);
  checkEdges(flow, ports, problems);
  if (!problems.some((p) => p.severity === 'error')) checkCycles(flow, problems);
  checkLayout(flow, problems);
  if (options.lookup) checkReferences(flow, options.lookup, problems);

  const result = dedupe(problems);
  return result.some((p) => p.severity === 'error')
    ? { ok: false, problems: result }
    : { ok: true, flow, problems: result };
}

function checkFormatVersion(input: unknown): FlowProblem | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return error('', 'a flow document must be a JSON object');
  }
  const format = (input as Record<string, unknown>)['format'];
  if (typeof format !== 'string')
    return error('/format', `is required and must be "topicflow/flow@${FLOW_FORMAT_VERSION}"`);
  const m = /^topicflow\/flow@(\d+)$/.exec(format);
  if (!m)
    return error(
      '/format',
      `"${format}" is not a TopicFlow flow format (expected "topicflow/flow@${FLOW_FORMAT_VERSION}")`,
    );
  const version = Number(m[1]);
  if (version > FLOW_FORMAT_VERSION) {
    return error(
      '/format',
      `this flow was written by a newer TopicFlow (flow@${version}); this version reads up to flow@${FLOW_FORMAT_VERSION}. Upgrade TopicFlow to open it.`,
    );
  }
  if (version < 1) return error('/format', `flow@${version} does not exist`);
  return undefined;
}

function checkConnections(connections: readonly FlowConnection[], problems: FlowProblem[]): Set<string> {
  const ids = new Set<string>();
  connections.forEach((c, i) => {
    const at = `/connections/${i}`;
    if (ids.has(c.id)) problems.push(error(`${at}/id`, `duplicate connection id "${c.id}"`));
    ids.add(c.id);
    if (c.clean === false && !c.clientId) {
      problems.push(error(`${at}/clientId`, 'is required with "clean": false, or the session could never be resumed'));
    }
    if (c.url === undefined && c.embedded === undefined) {
      problems.push(error(at, 'needs either "url" (an external broker) or "embedded" (the built-in broker)'));
    } else if (c.url !== undefined && c.embedded !== undefined) {
      problems.push(error(at, 'has both "url" and "embedded"; choose one'));
    } else if (c.url !== undefined) {
      const url = c.url.replace(/\$\{env:[A-Za-z0-9_]+:-([^}]*)\}/g, '$1');
      if (!/\$\{/.test(url) && !/^(mqtts?|wss?):\/\/[^/]/.test(url)) {
        problems.push(error(`${at}/url`, `"${c.url}" must start with mqtt://, mqtts://, ws:// or wss://`));
      }
      if (c.tls && /^(mqtt|ws):\/\//.test(url)) {
        problems.push(warning(`${at}/tls`, 'TLS settings are ignored for a plain mqtt:// or ws:// URL'));
      }
    }
  });
  return ids;
}

interface NodePorts {
  readonly inputs: ReadonlySet<string>;
  readonly outputs: ReadonlySet<string>;
}

function checkNodes(flow: FlowDocument, connectionIds: Set<string>, problems: FlowProblem[]): Map<string, NodePorts> {
  const ports = new Map<string, NodePorts>();
  flow.nodes.forEach((node, i) => {
    const at = `/nodes/${i}`;
    if (ports.has(node.id)) problems.push(error(`${at}/id`, `duplicate node id "${node.id}"`));
    const spec = getNodeSpec(node.type);
    if (!spec) {
      const known = NODE_SPECS.map((s) => s.type).join(', ');
      problems.push(error(`${at}/type`, `unknown node type "${node.type}" (known: ${known})`));
      ports.set(node.id, { inputs: new Set(), outputs: new Set() });
      return;
    }
    ports.set(node.id, {
      inputs: new Set(spec.inputs.map((p) => p.name)),
      outputs: new Set(spec.outputs.map((p) => p.name)),
    });
    node.config ??= {};
    const validate = configValidator(node.type) as ValidateFunction;
    if (!validate(node.config)) {
      for (const e of validate.errors ?? []) {
        const { path, message } = describeAjvError(e);
        problems.push(error(`${at}/config${path}`, message));
      }
      return;
    }
    for (const p of spec.check?.(node.config as never) ?? []) problems.push(error(`${at}/config${p.path}`, p.message));
    const connection = node.config['connection'];
    if (spec.usesConnection && typeof connection === 'string' && !connectionIds.has(connection)) {
      problems.push(error(`${at}/config/connection`, `no connection with id "${connection}" in /connections`));
    }
  });
  return ports;
}

function checkEdges(flow: FlowDocument, ports: Map<string, NodePorts>, problems: FlowProblem[]): void {
  const ids = new Set<string>();
  const pairs = new Set<string>();
  flow.edges.forEach((edge, i) => {
    const at = `/edges/${i}`;
    if (ids.has(edge.id)) problems.push(error(`${at}/id`, `duplicate edge id "${edge.id}"`));
    ids.add(edge.id);
    const from = ports.get(edge.from.node);
    const to = ports.get(edge.to.node);
    if (!from) problems.push(error(`${at}/from/node`, `no node with id "${edge.from.node}"`));
    else if (!from.outputs.has(edge.from.port)) {
      problems.push(
        error(
          `${at}/from/port`,
          `node "${edge.from.node}" has no output port "${edge.from.port}" (${list(from.outputs)})`,
        ),
      );
    }
    if (!to) problems.push(error(`${at}/to/node`, `no node with id "${edge.to.node}"`));
    else if (!to.inputs.has(edge.to.port)) {
      problems.push(
        error(`${at}/to/port`, `node "${edge.to.node}" has no input port "${edge.to.port}" (${list(to.inputs)})`),
      );
    }
    const key = `${edge.from.node}\u0000${edge.from.port}\u0000${edge.to.node}\u0000${edge.to.port}`;
    if (pairs.has(key)) problems.push(error(at, 'duplicates another edge between the same ports'));
    pairs.add(key);
  });
}

function list(names: ReadonlySet<string>): string {
  return names.size === 0 ? 'it has none' : `it has: ${[...names].join(', ')}`;
}

/** Kahn's algorithm; whatever is left over sits on a cycle. */
function checkCycles(flow: FlowDocument, problems: FlowProblem[]): void {
  const indegree = new Map<string, number>(flow.nodes.map((n) => [n.id, 0]));
  const next = new Map<string, string[]>();
  for (const e of flow.edges) {
    indegree.set(e.to.node, (indegree.get(e.to.node) ?? 0) + 1);
    const list = next.get(e.from.node) ?? [];
    list.push(e.to.node);
    next.set(e.from.node, list);
  }
  const ready = [...indegree].filter(([, d]) => d === 0).map(([id]) => id);
  let seen = 0;
  while (ready.length > 0) {
    const id = ready.pop() as string;
    seen++;
    for (const to of next.get(id) ?? []) {
      const d = (indegree.get(to) ?? 0) - 1;
      indegree.set(to, d);
      if (d === 0) ready.push(to);
    }
  }
  if (seen === flow.nodes.length) return;
  const onCycle = new Set([...indegree].filter(([, d]) => d > 0).map(([id]) => id));
  const index = flow.edges.findIndex((e) => onCycle.has(e.from.node) && onCycle.has(e.to.node));
  problems.push(
    error(`/edges/${index}`, `the edges form a cycle through nodes ${[...onCycle].map((id) => `"${id}"`).join(', ')}`),
  );
}

function checkLayout(flow: FlowDocument, problems: FlowProblem[]): void {
  const ids = new Set(flow.nodes.map((n) => n.id));
  for (const id of Object.keys(flow.layout?.nodes ?? {})) {
    if (!ids.has(id))
      problems.push(warning(`/layout/nodes/${escapePointer(id)}`, `position of a node that does not exist ("${id}")`));
  }
}

function checkReferences(
  flow: FlowDocument,
  lookup: (name: string) => string | undefined,
  problems: FlowProblem[],
): void {
  const visit = (value: unknown, pointer: string): void => {
    if (typeof value === 'string') {
      for (const ref of findReferences(value)) {
        if (ref.fallback === undefined && lookup(ref.name) === undefined) {
          problems.push(
            error(pointer, `${ref.text} is not set: define ${ref.name} in the environment or an --env-file`),
          );
        }
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, `${pointer}/${i}`));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, `${pointer}/${escapePointer(k)}`);
    }
  };
  flow.connections.forEach((c, i) => visit(c, `/connections/${i}`));
  flow.nodes.forEach((n, i) => visit(n.config, `/nodes/${i}/config`));
}

/** JSON.parse does not say where (on Node 20); jsonc-parser finds the offset of the first error. */
function describeJsonError(text: string, e: Error): string {
  const errors: jsonc.ParseError[] = [];
  jsonc.parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return e.message;
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - before.lastIndexOf('\n');
  const what = jsonc.printParseErrorCode(first.error);
  return `${what.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} at line ${line}, column ${column}`;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? (i++, 4) : 3;
  }
  return bytes;
}

function dedupe(problems: FlowProblem[]): FlowProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Deeper than any real flow (a user schema is capped at 32 levels); deep enough to stop a stack overflow. */
const MAX_FLOW_DEPTH = 128;

/** True when `value` nests objects or arrays more than `limit` levels deep (iterative: no recursion). */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The same for JSON text, before parsing: counts brackets outside strings. */
function textDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function fail(pointer: string, message: string): FlowValidation {
  return { ok: false, problems: [error(pointer, message)] };
}

function error(pointer: string, message: string): FlowProblem {
  return { pointer, message, severity: 'error' };
}

function warning(pointer: string, message: string): FlowProblem {
  return { pointer, message, severity: 'warning' };
}
