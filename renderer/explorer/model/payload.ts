/** Views of one message payload (bytes in base64 on the wire): text, JSON, number, hex. */

const decoder = new TextDecoder('utf-8', { fatal: false });
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes of the hex view at most (a 1 MB payload would make a 4 MB string of DOM text). */
export const HEX_VIEW_MAX_BYTES = 16 * 1024;

export function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number);
  return btoa(binary);
}

export interface DecodedPayload {
  readonly bytes: Uint8Array;
  readonly text: string;
  /** False when the bytes are not valid UTF-8 (the text then holds replacement characters). */
  readonly utf8: boolean;
  /** The parsed JSON when the text is JSON (numbers, strings and null included). */
  readonly json: { readonly value: unknown } | undefined;
  /** The number when the whole payload is one (`22.5`, `-3`, `1e3`), as the engine's `auto` decodes. */
  readonly number: number | undefined;
}

const NUMBER = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

export function decodePayload(base64: string): DecodedPayload {
  const bytes = decodeBase64(base64);
  let text: string;
  let utf8 = true;
  try {
    text = strictDecoder.decode(bytes);
  } catch {
    text = decoder.decode(bytes);
    utf8 = false;
  }
  let json: { value: unknown } | undefined;
  if (utf8 && text.trim() !== '') {
    try {
      json = { value: JSON.parse(text) as unknown };
    } catch {
      json = undefined;
    }
  }
  const number = utf8 && NUMBER.test(text) ? Number(text) : undefined;
  return { bytes, text, utf8, json, number: number !== undefined && Number.isFinite(number) ? number : undefined };
}

/** A classic hex dump: offset, 16 bytes in hex, and their printable ASCII. */
export function hexDump(bytes: Uint8Array, maxBytes = HEX_VIEW_MAX_BYTES): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, maxBytes);
  for (let offset = 0; offset < end; offset += 16) {
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const at = offset + i;
      if (at < end) {
        const b = bytes[at] as number;
        hex += b.toString(16).padStart(2, '0') + (i === 7 ? '  ' : ' ');
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hex += i === 7 ? '    ' : '   ';
      }
    }
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  if (bytes.length > end) lines.push(`… ${bytes.length - end} more bytes`);
  return lines.join('\n');
}

/** Dotted paths of the numeric fields of a JSON value (for chart series), depth- and count-bounded. */
export function numericFields(value: unknown, limit = 50, maxDepth = 6): string[] {
  const found: string[] = [];
  const walk = (v: unknown, path: string, depth: number) => {
    if (found.length >= limit) return;
    if (typeof v === 'number' && path !== '') found.push(path);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < maxDepth) {
      for (const [key, child] of Object.entries(v)) walk(child, path === '' ? key : `${path}.${key}`, depth + 1);
    }
  };
  walk(value, '', 0);
  return found;
}

/** "3 s ago", "5 min ago": the tree's last-received column. */
export function relativeTime(at: number, now: number): string {
  if (at <= 0) return '';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** 1234567 → "1.2M", for dense count columns. */
export function compactNumber(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 1 : 0)}M`;
}

export function formatRate(rate: number): string {
  if (rate <= 0.005) return '';
  if (rate < 10) return `${rate.toFixed(1)}/s`;
  return `${compactNumber(rate)}/s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
