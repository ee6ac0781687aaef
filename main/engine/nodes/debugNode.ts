import { debugSpec } from '../../../shared/nodes/debug.js';
import { implement } from '../runtime/nodeRuntime.js';

export function previewPayload(payload: unknown, limit: number): { preview: string; truncated: boolean } {
  let text: string;
  if (payload instanceof Uint8Array)
    text = `<${payload.byteLength} bytes> ${Buffer.from(payload.subarray(0, limit)).toString('hex')}`;
  else if (typeof payload === 'string') text = payload;
  else text = JSON.stringify(payload) ?? String(payload);
  return text.length > limit ? { preview: text.slice(0, limit), truncated: true } : { preview: text, truncated: false };
}

export const debugNode = implement({
  spec: debugSpec,
  create(ctx) {
    const { maxPerSecond, previewBytes, log } = ctx.config;
    let windowStart = 0;
    let shown = 0;
    return {
      onInput(message) {
        const now = performance.now();
        if (now - windowStart >= 1000) {
          windowStart = now;
          shown = 0;
        }
        if (shown >= maxPerSecond) {
          ctx.counters.dropped++;
          return;
        }
        shown++;
        ctx.counters.out++;
        const { preview, truncated } = previewPayload(message.payload, previewBytes);
        const event = { node: ctx.id, at: message.receivedAt, topic: message.topic, preview, truncated };
        ctx.services.debug(event);
        if (log) ctx.log.info({ debug: event }, 'debug message');
      },
    };
  },
});
