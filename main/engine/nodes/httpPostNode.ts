import type { FlowMessage } from '../../../shared/message.js';
import { httpPostSpec } from '../../../shared/nodes/httpPost.js';
import { errorMessage, implement } from '../runtime/nodeRuntime.js';

export const httpPostNode = implement({
  spec: httpPostSpec,
  check(config) {
    if (/\$\{/.test(config.url)) return [];
    try {
      const url = new URL(config.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        return [{ path: '/url', message: 'must be an http:// or https:// URL' }];
      return [];
    } catch {
      return [{ path: '/url', message: `"${config.url}" is not a URL` }];
    }
  },
  create(ctx) {
    const { url, timeoutMs, maxInFlight, maxQueue } = ctx.config;
    // Header names are case-insensitive: keyed in lower case, a configured `Content-Type` replaces the
    // default instead of fetch joining both into "application/json, text/plain".
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries({ ...ctx.config.headers, ...ctx.config.secretHeaders })) {
      headers[name.toLowerCase()] = value;
    }
    const queue: FlowMessage[] = [];
    let head = 0;
    let inFlight = 0;
    let stopping = false;
    let onIdle: (() => void) | undefined;

    const send = async (message: FlowMessage): Promise<void> => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify(message.payload) ?? 'null',
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.ok) {
          await response.body?.cancel();
          ctx.counters.out++;
        } else {
          const text = (await response.text().catch(() => '')).slice(0, 200);
          ctx.deadLetter(message, `http-post: ${response.status} ${response.statusText}${text ? `: ${text}` : ''}`);
        }
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        const detail = cause ? `${errorMessage(error)} (${errorMessage(cause)})` : errorMessage(error);
        ctx.deadLetter(message, `http-post: ${detail}`);
      }
    };

    const pump = (): void => {
      while (inFlight < maxInFlight && head < queue.length) {
        const message = queue[head++] as FlowMessage;
        inFlight++;
        void send(message).finally(() => {
          message.delivery?.release();
          inFlight--;
          pump();
        });
      }
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      if (inFlight === 0 && head >= queue.length) onIdle?.();
    };

    return {
      onInput(message) {
        if (stopping) throw new Error('http-post is stopping');
        if (queue.length - head >= maxQueue) {
          ctx.counters.dropped++;
          ctx.deadLetter(message, `http-post: ${maxQueue} messages already waiting to be sent`);
          return;
        }
        message.delivery?.hold();
        queue.push(message);
        pump();
      },
      pending: () => inFlight + queue.length - head,
      async stop() {
        stopping = true;
        if (inFlight === 0 && head >= queue.length) return;
        // Each request has its own timeout, so draining ends; what is still queued is sent first.
        await new Promise<void>((resolve) => (onIdle = resolve));
      },
    };
  },
});
