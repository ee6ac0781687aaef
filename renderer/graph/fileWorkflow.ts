/**
 * The pure half of the editor's file workflow (Save As, Import, Export): file-name checks and
 * reading what the engine said about a flow. DOM-free, unit-tested.
 */

/** The engine's rule for workspace flow files (main/server/engineService.ts). */
export const FLOW_FILE_NAME = /^[A-Za-z0-9._-]+\.json$/;

/** What is wrong with a workspace file name, or undefined when the engine will take it. */
export function fileNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'Type a file name.';
  if (!name.endsWith('.json')) return 'The name must end in .json.';
  if (!FLOW_FILE_NAME.test(name)) return 'Use only letters, digits, ".", "_" and "-" before .json.';
  if (name.includes('..')) return 'The name must not contain "..".';
  return undefined;
}

/** `pico sensors` → `pico sensors.json`: what the user typed, with `.json` added when missing. */
export function withJsonExtension(name: string): string {
  const trimmed = name.trim();
  return trimmed === '' || trimmed.endsWith('.json') ? trimmed : `${trimmed}.json`;
}

/** A workspace file name from any name (a flow name, an imported file's name): `Pico sensors` → `pico-sensors.json`. */
export function fileNameFor(name: string): string {
  const stem = name
    .replace(/\.json$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '');
  return `${stem || 'flow'}.json`;
}

export interface ProblemLike {
  readonly pointer: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** The pointers of literal secrets an export refused (shared/flow/exportFlow.ts says "literal secret"). */
export function literalSecretPointers(problems: readonly ProblemLike[]): string[] {
  return problems.filter((p) => p.severity === 'error' && /literal secret/.test(p.message)).map((p) => p.pointer);
}

/**
 * Parses an imported file's text: the document, or why it is not one. Only the shape the canvas
 * needs is required here; everything else is the engine's validation, shown on the nodes.
 */
export function parseImported(
  text: string,
): { ok: true; document: Record<string, unknown> } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'not a flow: the file must hold a JSON object' };
  }
  const document = value as Record<string, unknown>;
  if (!Array.isArray(document['nodes'])) return { ok: false, error: 'not a flow: "nodes" must be an array' };
  for (const key of ['edges', 'connections'] as const) {
    if (document[key] !== undefined && !Array.isArray(document[key])) {
      return { ok: false, error: `not a flow: "${key}" must be an array` };
    }
  }
  const nodes = document['nodes'] as unknown[];
  const bad = nodes.findIndex(
    (n) => typeof n !== 'object' || n === null || typeof (n as { id?: unknown }).id !== 'string',
  );
  if (bad >= 0) return { ok: false, error: `not a flow: /nodes/${bad} has no string "id"` };
  const edges = (document['edges'] ?? []) as unknown[];
  const end = (e: unknown, side: string) => {
    const value = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[side] : undefined;
    return typeof value === 'object' && value !== null && typeof (value as { node?: unknown }).node === 'string';
  };
  const badEdge = edges.findIndex((e) => !end(e, 'from') || !end(e, 'to'));
  if (badEdge >= 0) return { ok: false, error: `not a flow: /edges/${badEdge} needs "from" and "to" with a node` };
  return { ok: true, document };
}
