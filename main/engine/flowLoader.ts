import { readFile, stat } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import type { FlowDocument } from '../../shared/flow/flowDocument.js';
import { MAX_FLOW_FILE_BYTES } from '../../shared/flow/flowDocument.js';
import {
  parseFlowText,
  validateFlowDocument,
  type FlowProblem,
  type FlowValidation,
  type ValidateOptions,
} from '../../shared/flow/validateFlow.js';
import { mapStrings, resolveReferences } from '../../shared/references.js';
import { getNodeImplementation } from './nodes/nodeImplementations.js';

export type Lookup = (name: string) => string | undefined;

/**
 * Looks references up in the desktop keychain's values (`secrets`, when given), then an env file's
 * values, then the process environment. `${secret:NAME}` and `${env:NAME}` share one namespace.
 */
export function createLookup(env: NodeJS.ProcessEnv, envFile: Record<string, string> = {}, secrets?: Lookup): Lookup {
  return secrets ? (name) => secrets(name) ?? envFile[name] ?? env[name] : (name) => envFile[name] ?? env[name];
}

export async function readEnvFile(path: string): Promise<Record<string, string>> {
  try {
    return parseEnv(await readFile(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new Error(`cannot read env file ${path}: ${(error as Error).message}`);
  }
}

/** Shared validation, then what only the engine can check: expressions and schemas compile. */
export function checkFlow(document: unknown, options: ValidateOptions = {}): FlowValidation {
  const result = validateFlowDocument(document, options);
  return result.ok ? withEngineChecks(result.flow, result.problems) : result;
}

export function checkFlowText(text: string, options: ValidateOptions = {}): FlowValidation {
  const result = parseFlowText(text, options);
  return result.ok ? withEngineChecks(result.flow, result.problems) : result;
}

function withEngineChecks(flow: FlowDocument, earlier: readonly FlowProblem[]): FlowValidation {
  const problems = [...earlier];
  flow.nodes.forEach((node, i) => {
    const implementation = getNodeImplementation(node.type);
    if (!implementation) {
      problems.push({
        pointer: `/nodes/${i}/type`,
        message: `node type "${node.type}" has no runtime`,
        severity: 'error',
      });
      return;
    }
    for (const p of implementation.check?.(node.config as never) ?? []) {
      problems.push({ pointer: `/nodes/${i}/config${p.path}`, message: p.message, severity: 'error' });
    }
  });
  return problems.some((p) => p.severity === 'error') ? { ok: false, problems } : { ok: true, flow, problems };
}

/** Reads, size-checks, parses and validates a flow file. */
export async function readFlowFile(path: string, options: ValidateOptions = {}): Promise<FlowValidation> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    return {
      ok: false,
      problems: [{ pointer: '', message: `cannot read ${path}: ${(error as Error).message}`, severity: 'error' }],
    };
  }
  if (size > MAX_FLOW_FILE_BYTES) {
    return {
      ok: false,
      problems: [
        { pointer: '', message: `flow file is ${size} bytes; the limit is ${MAX_FLOW_FILE_BYTES}`, severity: 'error' },
      ],
    };
  }
  return checkFlowText(await readFile(path, 'utf8'), options);
}

/**
 * A copy of the flow with every `${env:...}` and `${secret:...}` replaced by its value. The
 * result lives in memory only; it is never logged or written.
 */
export function resolveFlow(flow: FlowDocument, lookup: Lookup): FlowDocument {
  const resolve = (value: string, pointer: string): string => {
    try {
      return resolveReferences(value, lookup);
    } catch (error) {
      throw new Error(`${pointer}: ${(error as Error).message}`);
    }
  };
  return {
    ...flow,
    connections: flow.connections.map((c, i) =>
      mapStrings(c, resolve, `/connections/${i}`),
    ) as FlowDocument['connections'],
    nodes: flow.nodes.map((n, i) => ({
      ...n,
      config: mapStrings(n.config ?? {}, resolve, `/nodes/${i}/config`) as Record<string, unknown>,
    })),
  };
}

export function formatProblems(problems: readonly FlowProblem[], file = ''): string {
  return problems
    .map(
      (p) =>
        `${file}${p.pointer ? `${file ? ' ' : ''}${p.pointer}` : file ? '' : '(document)'}: ${p.severity}: ${p.message}`,
    )
    .join('\n');
}
