import type { FlowMessage } from '../../../shared/message.js';
import type { NodeContext, NodeInstance } from '../runtime/nodeRuntime.js';
import { DurableWriter, sinkWriterDefaults } from '../store/durableWriter.js';
import { Outbox, type OutboxEntry, type NewOutboxEntry, type SendOutcome } from '../store/outbox.js';
import { checkExpression, compileExpression, evaluateInOrder } from './jsonataExpression.js';

/** The outbox settings every network sink has (shared/nodes/outboxConfig.ts). */
export interface OutboxSinkConfig {
  readonly priority: number;
  readonly priorityFrom?: string | undefined;
  readonly outboxMaxMessages: number;
  readonly outboxMaxBytes: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

export interface OutboxSinkOptions {
  /** Concurrent sends. */
  readonly concurrency: number;
  /** What to store for a message: the topic to send to (if any) and the body bytes. Throws → dead letter. */
  readonly encode: (message: FlowMessage) => { topic: string | undefined; body: Buffer };
  readonly send: (entry: OutboxEntry) => Promise<SendOutcome>;
  readonly ready?: () => boolean;
}

export type OutboxSink = Required<Pick<NodeInstance, 'onInput' | 'pending' | 'outbox'>> & {
  start(): void;
  stop(): Promise<void>;
  /** Try to send now (after the target came back). */
  poke(): void;
};

/** Problems with the outbox settings, for a node implementation's check(). */
export function checkOutboxConfig(config: OutboxSinkConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (config.priorityFrom !== undefined) {
    const problem = checkExpression(config.priorityFrom);
    if (problem) problems.push({ path: '/priorityFrom', message: problem });
  }
  if (config.retryMaxMs < config.retryBaseMs) {
    problems.push({ path: '/retryMaxMs', message: 'must be at least retryBaseMs' });
  }
  return problems;
}

interface Pending {
  readonly message: FlowMessage;
  readonly entry: NewOutboxEntry;
}

/**
 * The input side of a network sink: each message gets its priority, is encoded and written to the
 * node's durable outbox in batched transactions; its delivery (the broker's acknowledgement) is
 * released once that commit happened. The outbox then sends on its own (see store/outbox.ts).
 */
export function createOutboxSink(ctx: NodeContext<OutboxSinkConfig>, options: OutboxSinkOptions): OutboxSink {
  const { config } = ctx;
  let outbox: Outbox | undefined;

  const writer = new DurableWriter<Pending>({
    batchSize: 1000,
    write: (items) => (outbox as Outbox).add(items.map((i) => i.entry)),
    committed: (items) => {
      for (const item of items) item.message.delivery?.release();
      outbox?.poke();
    },
    rejected: (item, error) => {
      ctx.deadLetter(item.message, `${ctx.type}: could not queue the message: ${(error as Error).message}`);
      item.message.delivery?.release();
    },
    ...sinkWriterDefaults({ store: ctx.services.store, log: ctx.log, counters: ctx.counters }),
  });

  const enqueue = (message: FlowMessage, priority: number): void => {
    const { topic, body } = options.encode(message);
    message.delivery?.hold();
    writer.add({ message, entry: { priority, seq: message.seq, topic, body } });
  };

  const prioritized =
    config.priorityFrom === undefined
      ? undefined
      : evaluateInOrder(ctx, `${ctx.type} priorityFrom`, compileExpression(config.priorityFrom), (m, value, error) => {
          const own = error === undefined && typeof value === 'number' && Number.isFinite(value);
          try {
            enqueue(m, own ? Math.max(-1000, Math.min(1000, Math.round(value))) : config.priority);
          } catch (encodeError) {
            ctx.deadLetter(m, `${ctx.type}: ${(encodeError as Error).message}`);
          }
        });

  return {
    start() {
      outbox = new Outbox({
        store: ctx.services.store,
        node: ctx.id,
        flow: () => ctx.flow,
        revision: () => ctx.services.revision(),
        maxCount: config.outboxMaxMessages,
        maxBytes: config.outboxMaxBytes,
        concurrency: options.concurrency,
        retryBaseMs: config.retryBaseMs,
        retryMaxMs: config.retryMaxMs,
        send: options.send,
        ...(options.ready ? { ready: options.ready } : {}),
        log: ctx.log,
        onSent: () => ctx.counters.out++,
        onDeadLetter: () => ctx.counters.errors++,
      });
      const { depth } = outbox.status();
      if (depth > 0) ctx.log.info({ depth }, 'outbox holds messages from before: sending them');
      outbox.poke();
    },
    onInput(message) {
      if (!outbox) throw new Error(`${ctx.type} is not started`);
      if (prioritized) prioritized.onInput(message);
      else enqueue(message, config.priority);
    },
    // What stop() waits for: messages not yet in the outbox, and sends in flight (not the whole outbox).
    pending: () => writer.pending + (prioritized?.pending() ?? 0) + (outbox?.status().inFlight ?? 0),
    outbox: () =>
      outbox?.status() ?? {
        depth: 0,
        bytes: 0,
        maxCount: config.outboxMaxMessages,
        maxBytes: config.outboxMaxBytes,
        inFlight: 0,
        sent: 0,
        evicted: 0,
        retries: 0,
        failing: false,
        lastError: undefined,
      },
    poke: () => outbox?.poke(),
    async stop() {
      await prioritized?.stop('shutdown');
      writer.flush();
      await writer.idle();
      writer.close();
      // What is in the outbox stays there for the next start; only sends in flight are awaited.
      await outbox?.close();
    },
  };
}
