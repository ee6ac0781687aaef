import { httpPostSpec } from '../../../shared/nodes/httpPost.js';
import { errorMessage, implement } from '../runtime/nodeRuntime.js';
import type { OutboxEntry, SendOutcome } from '../store/outbox.js';
import { checkOutboxConfig, createOutboxSink } from './outboxSink.js';

export const httpPostNode = implement({
  spec: httpPostSpec,
  check(config) {
    const problems = checkOutboxConfig(config);
    if (/\$\{/.test(config.url)) return problems;
    try {
      const url = new URL(config.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        problems.push({ path: '/url', message: 'must be an http:// or https:// URL' });
    } catch {
      problems.push({ path: '/url', message: `"${config.url}" is not a URL` });
    }
    return problems;
  },
  create(ctx) {
    const { url, timeoutMs, maxInFlight } = ctx.config;
    // Header names are case-insensitive: keyed in lower case, a configured `Content-Type` replaces the
    // default instead of fetch joining both into "application/json, text/plain". Headers are read
    // from the config at send time, never stored in the outbox: secrets stay out of the database.
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries({ ...ctx.config.headers, ...ctx.config.secretHeaders })) {
      headers[name.toLowerCase()] = value;
    }

    const send = async (entry: OutboxEntry): Promise<SendOutcome> => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers,
          body: entry.body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.ok) {
          await response.body?.cancel();
          return { ok: true };
        }
        const text = (await response.text().catch(() => '')).slice(0, 200);
        const error = `http-post: ${response.status} ${response.statusText}${text ? `: ${text}` : ''}`;
        return { ok: false, retry: isRetryable(response.status), error };
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        const detail = cause ? `${errorMessage(error)} (${errorMessage(cause)})` : errorMessage(error);
        return { ok: false, retry: true, error: `http-post: ${detail}` };
      }
    };

    const sink = createOutboxSink(ctx, {
      concurrency: maxInFlight,
      encode: (message) => ({ topic: message.topic, body: Buffer.from(JSON.stringify(message.payload) ?? 'null') }),
      send,
    });
    return {
      start: () => sink.start(),
      onInput: sink.onInput,
      pending: sink.pending,
      outbox: sink.outbox,
      stop: () => sink.stop(),
    };
  },
});

/** Worth trying again: server errors, 408 Request Timeout, 429 Too Many Requests. Other 4xx never succeed. */
export function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
