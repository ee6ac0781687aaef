import type { FlowProblem } from '../flow/validateFlow.js';
import type { NodeCategory, PortSpec } from '../nodes/nodeSpec.js';
import { EXPLORER_METHOD_NAMES, type ExplorerEvents, type ExplorerMethods } from './explorerProtocol.js';

/**
 * The one protocol between the editor (renderer) and the engine. It travels over a MessagePort
 * in the desktop app and over a WebSocket for `topicflow serve`; neither side knows which.
 */

/** Largest page of `store.rows`. */
export const MAX_ROWS_PAGE = 500;
/** Largest page of `deadLetters.list`. */
export const MAX_DEAD_LETTERS_PAGE = 1000;
/** Status events are batched: at most one per this many milliseconds (4 a second). */
export const STATUS_EVENT_INTERVAL_MS = 250;

// ---- shapes the protocol carries -----------------------------------------------------------

export interface ProtocolNodeCounters {
  readonly in: number;
  readonly out: number;
  readonly errors: number;
  readonly dropped: number;
}

export interface ProtocolOutboxStatus {
  readonly depth: number;
  readonly bytes: number;
  readonly maxCount: number;
  readonly maxBytes: number;
  readonly inFlight: number;
  readonly sent: number;
  readonly evicted: number;
  readonly retries: number;
  readonly failing: boolean;
}

export interface ProtocolNodeStatus {
  readonly id: string;
  readonly type: string;
  readonly state: 'created' | 'running' | 'failed' | 'stopped';
  readonly error: string | undefined;
  readonly counters: ProtocolNodeCounters;
  /** Messages per second over the engine's last sampling period. */
  readonly rates: { readonly in: number; readonly out: number };
  readonly pending: number;
  readonly outbox?: ProtocolOutboxStatus | undefined;
}

export interface ProtocolConnectionStatus {
  readonly id: string;
  readonly state: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  readonly url: string;
  readonly connects: number;
  readonly lastError: string | undefined;
  readonly users: number;
  readonly subscriptions: number;
  readonly unacknowledged: number;
}

export interface ProtocolStoreStatus {
  readonly state: 'ok' | 'failing';
  readonly error: string | undefined;
}

export interface ProtocolEngineStatus {
  /** Whether a flow is deployed and the engine not stopped. */
  readonly running: boolean;
  readonly flow: string | undefined;
  readonly revision: string | undefined;
  readonly nodes: readonly ProtocolNodeStatus[];
  readonly connections: readonly ProtocolConnectionStatus[];
  readonly store: ProtocolStoreStatus;
  readonly deadLetters: number;
}

export interface CatalogNode {
  readonly type: string;
  readonly title: string;
  readonly category: NodeCategory;
  readonly summary: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  /** JSON Schema of the node's config. */
  readonly config: unknown;
  readonly usesConnection?: 'always' | 'sometimes' | undefined;
  readonly example: unknown;
  /** JSON pointers of config fields that hold secrets (they take `${env:...}`/`${secret:...}`). */
  readonly secrets: readonly string[];
}

export interface FlowFileInfo {
  /** File name in the workspace, e.g. `pico-sensors.json`. */
  readonly name: string;
  readonly bytes: number;
  /** Last modification, epoch ms. */
  readonly modifiedAt: number;
}

export interface ValidationResult {
  readonly ok: boolean;
  readonly problems: readonly FlowProblem[];
}

export interface ExportOutcome {
  readonly document: unknown;
  /** Literal secrets replaced, keychain references turned into env ones, validation warnings. */
  readonly warnings: readonly FlowProblem[];
  /** Environment variables the gateway must set (referenced without a fallback), sorted. */
  readonly requiredEnv: readonly string[];
}

export interface DeployOutcome {
  readonly revision: string;
  readonly flow: string;
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
  readonly failed: readonly { readonly node: string; readonly error: string }[];
}

export interface TableInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: number;
}

export interface RowsPage {
  readonly table: string;
  readonly columns: readonly string[];
  /** Each row in column order; blobs are sent as `{ base64 }`. */
  readonly rows: readonly (readonly unknown[])[];
  readonly offset: number;
  readonly total: number;
}

export interface DeadLetterItem {
  readonly id: number;
  readonly at: number;
  readonly flow: string;
  readonly revision: string;
  readonly node: string;
  readonly reason: string;
  readonly topic: string | null;
  readonly qos: number | null;
  readonly payloadSize: number | null;
  /** The first bytes of the payload as UTF-8 text (replacement characters where not text). */
  readonly preview: string | null;
  readonly replayedAt: number | null;
}

export interface ReplayOutcome {
  /** Dead letters published and acknowledged by the broker (now marked replayed). */
  readonly replayed: number;
  /** Why each of the others was not replayed (unknown id, no payload, truncated, broker error...). */
  readonly errors: readonly { readonly id: number; readonly error: string }[];
}

/** Largest number of ids in one `deadLetters.replay`. */
export const MAX_REPLAY_IDS = 1000;

export interface DebugMessage {
  readonly node: string;
  readonly at: number;
  readonly topic: string;
  readonly preview: string;
  readonly truncated: boolean;
}

/** A message as the editor's expression preview uses it: what an expression can read. */
export interface SampleMessage {
  readonly topic: string;
  /** The decoded payload (JSON value, number or text). */
  readonly payload: unknown;
  readonly qos?: 0 | 1 | 2 | undefined;
  readonly params?: Readonly<Record<string, string>> | undefined;
  /** Epoch ms. */
  readonly receivedAt?: number | undefined;
  readonly id?: string | undefined;
}

/** Largest payload `nodes.lastMessage` sends as a value (as JSON text); beyond it only a preview. */
export const MAX_SAMPLE_PAYLOAD_BYTES = 64 * 1024;
/** Largest expression `expression.preview` evaluates (the transform node's own limit). */
export const MAX_PREVIEW_EXPRESSION_CHARS = 65_536;
/** Largest preview result sent back, as JSON text; longer results are cut and say so. */
export const MAX_PREVIEW_RESULT_CHARS = 16 * 1024;

export interface LastMessage {
  /** The message, or its envelope with `payload: null` when `truncated` (too large or binary). */
  readonly message: SampleMessage;
  /** The payload was too large (over MAX_SAMPLE_PAYLOAD_BYTES as JSON) or binary: see `payloadPreview`. */
  readonly truncated: boolean;
  /** The start of the payload as text, when `truncated`. */
  readonly payloadPreview?: string | undefined;
}

export type PreviewOutcome =
  | {
      readonly ok: true;
      /** The result as JSON text; undefined when the expression yields nothing. */
      readonly result: string | undefined;
      /** JSONata truthiness of the result (what a filter predicate decides by). */
      readonly truthy: boolean;
      /** The JSON text was cut at MAX_PREVIEW_RESULT_CHARS. */
      readonly truncated: boolean;
      readonly elapsedMs: number;
    }
  | {
      readonly ok: false;
      readonly error: {
        readonly message: string;
        /** JSONata's error code (S0201, T2001, D3141...), when it has one. */
        readonly code?: string | undefined;
        /** Character position in the expression (1-based end of the failing token), when known. */
        readonly position?: number | undefined;
      };
    };

// ---- methods and events --------------------------------------------------------------------

type NoParams = Record<string, never>;

export interface ProtocolMethods extends ExplorerMethods {
  'catalog.get': { params: NoParams; result: { readonly nodes: readonly CatalogNode[] } };
  'flows.list': { params: NoParams; result: { readonly flows: readonly FlowFileInfo[] } };
  'flows.open': {
    params: { readonly name: string };
    result: { readonly name: string; readonly document: unknown; readonly validation: ValidationResult };
  };
  'flows.save': {
    params: { readonly name: string; readonly document: unknown };
    result: { readonly name: string; readonly bytes: number; readonly validation: ValidationResult };
  };
  'flows.validate': { params: { readonly document: unknown }; result: ValidationResult };
  /**
   * The gateway copy of a flow (shared/flow/exportFlow.ts): validated, layout dropped unless
   * `keepLayout`, `${secret:NAME}` → `${env:NAME}`; a literal secret fails with `invalid-flow`
   * (its pointer, never its value) unless `stripSecrets` replaces it by an `${env:...}` reference.
   */
  'flows.export': {
    params: { readonly document: unknown; readonly stripSecrets?: boolean; readonly keepLayout?: boolean };
    result: ExportOutcome;
  };
  'engine.deploy': { params: { readonly document: unknown }; result: DeployOutcome };
  'engine.stop': { params: NoParams; result: { readonly stopped: true } };
  'engine.status': { params: NoParams; result: ProtocolEngineStatus };
  'store.tables': { params: NoParams; result: { readonly tables: readonly TableInfo[] } };
  'store.rows': {
    params: { readonly table: string; readonly offset?: number; readonly limit?: number };
    result: RowsPage;
  };
  'deadLetters.list': {
    params: { readonly node?: string; readonly limit?: number; readonly beforeId?: number };
    result: { readonly items: readonly DeadLetterItem[]; readonly total: number };
  };
  'deadLetters.purge': { params: { readonly ids: readonly number[] }; result: { readonly purged: number } };
  /**
   * Publishes each dead letter's original bytes again to its original topic, on the broker
   * connection of the deployed flow that recorded it; marks it replayed once the broker acknowledged.
   */
  'deadLetters.replay': { params: { readonly ids: readonly number[] }; result: ReplayOutcome };
  /**
   * The last message node `node` received in the deployed flow (the engine keeps a reference to
   * it; it is serialized only here), or null when it received none or is not deployed.
   */
  'nodes.lastMessage': { params: { readonly node: string }; result: { readonly last: LastMessage | null } };
  /**
   * Evaluates a JSONata expression against `message`, or against the last message `node` received
   * (when no message is given), with the transform node's bounded evaluator and time limit.
   */
  'expression.preview': {
    params: { readonly expression: string; readonly message?: SampleMessage; readonly node?: string };
    result: PreviewOutcome;
  };
}

export interface ProtocolEvents extends ExplorerEvents {
  /** The engine's status; batched, at most one per STATUS_EVENT_INTERVAL_MS. */
  status: ProtocolEngineStatus;
  /** Debug node messages since the last event; `dropped` counts those over the rate limit. */
  debug: { readonly messages: readonly DebugMessage[]; readonly dropped: number };
  deployed: DeployOutcome;
}

export type MethodName = keyof ProtocolMethods;
export type EventName = keyof ProtocolEvents;
export type ParamsOf<M extends MethodName> = ProtocolMethods[M]['params'];
export type ResultOf<M extends MethodName> = ProtocolMethods[M]['result'];

export const METHOD_NAMES: readonly MethodName[] = [
  'catalog.get',
  'flows.list',
  'flows.open',
  'flows.save',
  'flows.validate',
  'flows.export',
  'engine.deploy',
  'engine.stop',
  'engine.status',
  'store.tables',
  'store.rows',
  'deadLetters.list',
  'deadLetters.purge',
  'deadLetters.replay',
  'nodes.lastMessage',
  'expression.preview',
  ...EXPLORER_METHOD_NAMES,
];

/** Error codes of failed responses. */
export type ErrorCode =
  'bad-request' | 'unknown-method' | 'invalid-params' | 'invalid-flow' | 'not-found' | 'engine-stopped' | 'internal';

export interface ProtocolError {
  readonly code: ErrorCode;
  readonly message: string;
  /** For `invalid-flow`: each problem with its JSON pointer. */
  readonly problems?: readonly FlowProblem[] | undefined;
}

// ---- envelopes -----------------------------------------------------------------------------

export type RequestEnvelope<M extends MethodName = MethodName> = {
  [K in M]: { readonly kind: 'request'; readonly id: number; readonly method: K; readonly params: ParamsOf<K> };
}[M];

export type ResponseEnvelope<M extends MethodName = MethodName> =
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly result: ResultOf<M> }
  | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly error: ProtocolError };

export type EventEnvelope<E extends EventName = EventName> = {
  [K in E]: { readonly kind: 'event'; readonly event: K; readonly data: ProtocolEvents[K] };
}[E];

export type ServerEnvelope = ResponseEnvelope | EventEnvelope;

/** The engine side, whatever carries it. */
export interface ProtocolService {
  handle<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
}

export interface ProtocolEventListener {
  onDidEmit<E extends EventName>(event: E, data: ProtocolEvents[E]): void;
}

/**
 * Checks an envelope received from the network: a request with a safe integer id, a known
 * method and params that are an object. Returns the request, or what is wrong (with the id
 * when one could be read, so the answer can name it).
 */
export function parseRequest(
  value: unknown,
): { ok: true; request: RequestEnvelope } | { ok: false; id: number | null; error: ProtocolError } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, id: null, error: { code: 'bad-request', message: 'a request must be a JSON object' } };
  }
  const v = value as Record<string, unknown>;
  const id = typeof v['id'] === 'number' && Number.isSafeInteger(v['id']) ? v['id'] : null;
  const bad = (code: ErrorCode, message: string) => ({ ok: false as const, id, error: { code, message } });
  if (v['kind'] !== 'request') return bad('bad-request', `"kind" must be "request", not ${describe(v['kind'])}`);
  if (id === null) return bad('bad-request', `"id" must be a safe integer, not ${describe(v['id'])}`);
  const method = v['method'];
  if (typeof method !== 'string' || !(METHOD_NAMES as readonly string[]).includes(method)) {
    return bad('unknown-method', `unknown method ${describe(method)}; known: ${METHOD_NAMES.join(', ')}`);
  }
  const params = v['params'] === undefined ? {} : v['params'];
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return bad('invalid-params', `"params" of ${method} must be an object, not ${describe(v['params'])}`);
  }
  return { ok: true, request: { kind: 'request', id, method, params } as RequestEnvelope };
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return typeof value === 'object' ? 'an object' : String(value);
}
