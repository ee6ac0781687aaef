import type { Static, TObject } from '@sinclair/typebox';

export type NodeCategory = 'source' | 'process' | 'sink';

export interface PortSpec {
  readonly name: string;
  readonly description: string;
  /**
   * What happens to a message sent to this output when no edge leaves it: `discard` drops it
   * quietly (a filter's `else`), `dead-letter` records it with its reason (a validator's `invalid`).
   */
  readonly whenUnwired?: 'discard' | 'dead-letter';
}

/**
 * One node type, declared once. Config validation, defaults, the TypeScript config type, the
 * editor's form and docs/nodes.md all come from this declaration.
 */
export interface NodeSpec<C extends TObject = TObject> {
  /** Kebab-case type id; never renamed once published. */
  readonly type: string;
  readonly title: string;
  readonly category: NodeCategory;
  readonly summary: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  /** JSON Schema of the config: defaults, descriptions, examples; secret fields carry `secret: true`. */
  readonly config: C;
  /** Whether `config.connection` names one of the flow's connections. */
  readonly usesConnection?: 'always' | 'sometimes';
  /** An example config, shown in docs and used by tests. */
  readonly example: Static<C>;
  /** Checks the schema cannot express; `path` is a JSON pointer inside the config. */
  check?(config: Static<C>): ConfigProblem[];
}

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export type ConfigOf<S> = S extends NodeSpec<infer C> ? Static<C> : never;

export function defineNode<C extends TObject>(spec: NodeSpec<C>): NodeSpec<C> {
  return spec;
}

/** Runs `parse` and reports what it throws as a problem at `path` (for `check`). */
export function problemIfThrows(path: string, parse: () => unknown): ConfigProblem[] {
  try {
    parse();
    return [];
  } catch (error) {
    return [{ path, message: error instanceof Error ? error.message : String(error) }];
  }
}
