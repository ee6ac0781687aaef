import type { FlowDocument } from '../shared/flow/flowDocument.js';
import type { ExportOutcome } from '../shared/protocol/protocol.js';
import { documentToGraph, emptyDocument, problemsByNode } from './graph/flowGraph.js';
import { fileNameFor, parseImported } from './graph/fileWorkflow.js';
import { emptyHistory } from './graph/history.js';
import { ProtocolCallError } from './protocolClient.js';
import {
  closeUndoStep,
  currentDocument,
  engineClient,
  nextRevision,
  useEditor,
  withClient,
  type EditorDialog,
} from './store.js';
/**
 * Commands on the whole flow that go through the engine: validate, list/open/new/save, import and
 * export for a gateway, deploy and stop. Split from store.ts (the editor's state and canvas edits);
 * they read and write the same zustand store.
 */

const set = useEditor.setState;
const get = useEditor.getState;

export async function validate(): Promise<boolean> {
  const document = currentDocument();
  const result = await withClient((c) => c.call('flows.validate', { document }));
  if (!result) return false;
  set({ problems: problemsByNode(document, result.problems), validatedOk: result.ok });
  if (result.ok) set({ notice: { kind: 'info', text: 'The flow is valid.' } });
  return result.ok;
}

export async function listFlows(): Promise<void> {
  const result = await withClient((c) => c.call('flows.list', {}));
  if (result) set({ flowFiles: result.flows });
}

export function closeFlowList(): void {
  set({ flowFiles: undefined });
}

export function loadDocument(document: FlowDocument, fileName: string | undefined): void {
  const graph = documentToGraph(document);
  const revision = nextRevision();
  set({
    fileName,
    revision,
    savedRevision: revision,
    history: emptyHistory(),
    meta: graph.meta,
    nodes: graph.nodes,
    edges: graph.edges,
    dirty: false,
    selectedId: undefined,
    problems: [],
    validatedOk: undefined,
    flowFiles: undefined,
    importedName: undefined,
    loads: get().loads + 1,
  });
}

export async function openFlow(name: string): Promise<void> {
  const result = await withClient((c) => c.call('flows.open', { name }));
  if (!result) return;
  loadDocument(result.document as FlowDocument, result.name);
  set({
    problems: problemsByNode(result.document as FlowDocument, result.validation.problems),
    validatedOk: result.validation.ok,
    notice: { kind: 'info', text: `Opened ${result.name}.` },
  });
}

export function newFlow(): void {
  loadDocument(emptyDocument(), undefined);
}

export async function saveFlow(name: string): Promise<boolean> {
  const document = currentDocument();
  const revision = get().revision;
  const result = await withClient((c) => c.call('flows.save', { name, document }));
  if (!result) return false;
  closeUndoStep();
  set({
    fileName: result.name,
    savedRevision: revision,
    dirty: get().revision !== revision,
    problems: problemsByNode(document, result.validation.problems),
    validatedOk: result.validation.ok,
    notice: {
      kind: result.validation.ok ? 'info' : 'error',
      text: result.validation.ok ? `Saved ${result.name}.` : `Saved ${result.name}, but the flow has problems.`,
    },
  });
  return true;
}

export async function deploy(): Promise<void> {
  const document = currentDocument();
  const result = await withClient((c) => c.call('engine.deploy', { document }));
  if (!result) return;
  set({
    lastDeploy: result,
    problems: [],
    validatedOk: true,
    notice: {
      kind: result.failed.length > 0 ? 'error' : 'info',
      text: `Deployed: ${result.added.length} added, ${result.changed.length} changed, ${result.removed.length} removed, ${result.unchanged.length} unchanged${result.failed.length > 0 ? `; failed: ${result.failed.map((f) => `${f.node} (${f.error})`).join(', ')}` : ''}.`,
    },
  });
}

export async function stop(): Promise<void> {
  const result = await withClient((c) => c.call('engine.stop', {}));
  if (result) set({ running: false, notice: { kind: 'info', text: 'Engine stopped.' } });
}

// ---- file workflow -------------------------------------------------------------------------

export function openDialog(dialog: EditorDialog | undefined): void {
  set({ dialog, flowFiles: undefined });
}

/** Whether `name` already exists in the workspace (asked fresh: another editor may have saved it). */
export async function fileExists(name: string): Promise<boolean> {
  const result = await withClient((c) => c.call('flows.list', {}));
  return result?.flows.some((f) => f.name === name) ?? false;
}

/**
 * Opens an imported document as a new, unsaved flow; the engine's validation puts any problems
 * on their nodes. False (with the reason as a notice) when the text is not a flow at all.
 */
export async function importDocument(fileName: string, text: string): Promise<boolean> {
  const parsed = parseImported(text);
  if (!parsed.ok) {
    set({ notice: { kind: 'error', text: `Cannot import ${fileName}: ${parsed.error}.` } });
    return false;
  }
  const document = {
    format: 'topicflow/flow@1',
    name: fileName.replace(/\.json$/i, ''),
    connections: [],
    edges: [],
    ...parsed.document,
  } as unknown as FlowDocument;
  let graphDocument: FlowDocument;
  try {
    documentToGraph(document);
    graphDocument = document;
  } catch (error) {
    set({ notice: { kind: 'error', text: `Cannot import ${fileName}: ${(error as Error).message}.` } });
    return false;
  }
  loadDocument(graphDocument, undefined);
  // Unsaved: it exists only in the editor until Save As puts it in the workspace.
  const revision = nextRevision();
  set({ revision, dirty: true, importedName: fileNameFor(fileName) });
  const result = await withClient((c) => c.call('flows.validate', { document: parsed.document }));
  if (result) {
    set({
      problems: problemsByNode(graphDocument, result.problems),
      validatedOk: result.ok,
      notice: result.ok
        ? { kind: 'info', text: `Imported ${fileName} (not saved yet).` }
        : {
            kind: 'error',
            text: `Imported ${fileName}: ${result.problems.filter((p) => p.severity === 'error').length} problem(s); see the nodes marked ⚠.`,
          },
    });
  }
  return true;
}

/** The name Save As proposes: the open file, an imported file's name, or one from the flow name. */
export function suggestedFileName(): string {
  const { fileName, importedName, meta } = get();
  return fileName ?? importedName ?? fileNameFor(meta.name);
}

/** The gateway copy of the open flow (flows.export); the refusal's problems are returned, not shown as a notice. */
export async function exportDocument(
  stripSecrets: boolean,
): Promise<
  { ok: true; outcome: ExportOutcome } | { ok: false; message: string; problems: readonly NodeProblemLike[] }
> {
  const engine = engineClient();
  if (!engine) return { ok: false, message: 'not connected to the engine', problems: [] };
  try {
    const outcome = await engine.call('flows.export', { document: currentDocument(), stripSecrets });
    return { ok: true, outcome };
  } catch (error) {
    const problems = error instanceof ProtocolCallError ? (error.problems ?? []) : [];
    return { ok: false, message: error instanceof Error ? error.message : String(error), problems };
  }
}

type NodeProblemLike = { readonly pointer: string; readonly message: string; readonly severity: 'error' | 'warning' };
