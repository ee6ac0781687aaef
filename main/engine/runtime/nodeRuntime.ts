import type { Static, TObject } from '@sinclair/typebox';
import type { DeliveryHandle, FlowMessage } from '../../../shared/message.js';
import type { NodeSpec } from '../../../shared/nodes/nodeSpec.js';
import type { Logger } from '../logger.js';
import type { ConnectionManager, ResolvedConnection } from '../mqtt/connectionManager.js';
import type { OutboxStatus } from '../store/outbox.js';
import type { Store } from '../store/store.js';

export interface NodeCounters {
  in: number;
  out: number;
  errors: number;
  dropped: number;
}

/** Sends a message out of one port: a direct call into every node wired to it. */
export type Output = (message: FlowMessage) => void;

/** What a dead letter records when there is no complete message yet (decoding failed). */
export interface RawInput {
  readonly topic: string;
  readonly raw: Uint8Array | undefined;
  readonly qos: number | undefined;
  readonly seq: number | undefined;
  readonly delivery: DeliveryHandle | undefined;
}

export interface DebugEvent {
  readonly node: string;
  readonly at: number;
  readonly topic: string;
  readonly preview: string;
  readonly truncated: boolean;
}

/** What the engine lends every node. */
export interface EngineServices {
  readonly store: Store;
  readonly connections: ConnectionManager;
  connection(id: string): ResolvedConnection;
  /** The revision of the flow deployed now (recorded with dead letters). */
  revision(): string;
  /** Stamps a new message with the next sequence number, an id and receive times. */
  newMessage(
    fields: Pick<
      FlowMessage,
      'topic' | 'payload' | 'raw' | 'qos' | 'retain' | 'properties' | 'params' | 'connection' | 'packetId' | 'delivery'
    >,
  ): FlowMessage;
  debug(event: DebugEvent): void;
}

export interface NodeContext<C> {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly flow: string;
  readonly config: C;
  readonly log: Logger;
  readonly counters: NodeCounters;
  readonly services: EngineServices;
  /** The sender for an output port; stays valid across redeploys that rewire it. */
  output(port: string): Output;
  /**
   * Records a message that cannot succeed, with its reason, and counts an error. The message's
   * delivery is held until the dead letter is committed.
   */
  deadLetter(message: FlowMessage | RawInput, reason: string): void;
}

export type StopReason = 'redeploy' | 'removed' | 'shutdown';

export interface NodeInstance {
  /** Called for each message on the node's input. Throwing dead-letters the message. */
  onInput?(message: FlowMessage): void;
  /** Side effects start here (subscriptions, tables, timers), not in the constructor. */
  start?(): void | Promise<void>;
  /** Finishes or hands back pending work, then releases what start() took. */
  stop?(reason: StopReason): void | Promise<void>;
  /** Work accepted but not finished (queued requests, unflushed rows), for status and draining. */
  pending?(): number;
  /** Network sinks: their durable outbox. */
  outbox?(): OutboxStatus;
}

export interface NodeImplementation<C extends TObject = TObject> {
  readonly spec: NodeSpec<C>;
  /**
   * Compiles what the node compiles ahead (expressions, schemas) and returns problems as
   * { path, message } inside the config; used by `topicflow validate` before anything runs.
   */
  check?(config: Static<C>): { path: string; message: string }[];
  create(context: NodeContext<Static<C>>): NodeInstance;
}

export function implement<C extends TObject>(implementation: NodeImplementation<C>): NodeImplementation<C> {
  return implementation;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}
