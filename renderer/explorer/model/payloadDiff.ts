/**
 * The difference between a topic's message and the one before it: by key for JSON objects and
 * arrays, by line for text. Written here because no diff library is installed (adding one was not
 * possible in this change) and what the detail pane needs is small: both inputs are bounded
 * payloads, and the output is a short list, not a patch to apply.
 */

export interface KeyChange {
  /** Dotted path (`a.b`, `list[2]`); '' for the whole value. */
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Changes listed at most; the rest is counted in `more`. */
export const MAX_CHANGES = 200;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Key-by-key changes from `before` to `after` (objects by key, arrays by index). */
export function jsonDiff(before: unknown, after: unknown): { changes: KeyChange[]; more: number } {
  const changes: KeyChange[] = [];
  let more = 0;
  const add = (change: KeyChange) => {
    if (changes.length < MAX_CHANGES) changes.push(change);
    else more++;
  };
  const walk = (a: unknown, b: unknown, path: string, depth: number) => {
    if (Object.is(a, b)) return;
    if (depth < 32 && isObject(a) && isObject(b)) {
      for (const key of Object.keys(a)) {
        if (!(key in b)) add({ path: join(path, key), kind: 'removed', before: a[key] });
        else walk(a[key], b[key], join(path, key), depth + 1);
      }
      for (const key of Object.keys(b)) if (!(key in a)) add({ path: join(path, key), kind: 'added', after: b[key] });
      return;
    }
    if (depth < 32 && Array.isArray(a) && Array.isArray(b)) {
      const common = Math.min(a.length, b.length);
      for (let i = 0; i < common; i++) walk(a[i], b[i], join(path, i), depth + 1);
      for (let i = common; i < a.length; i++) add({ path: join(path, i), kind: 'removed', before: a[i] });
      for (let i = common; i < b.length; i++) add({ path: join(path, i), kind: 'added', after: b[i] });
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) add({ path, kind: 'changed', before: a, after: b });
  };
  walk(before, after, '', 0);
  return { changes, more };
}

export interface LineOp {
  readonly kind: 'same' | 'added' | 'removed';
  readonly text: string;
}

/** Above this many lines × lines the LCS table is too large: fall back to a plain before/after. */
const MAX_LCS_CELLS = 1_000_000;

/** A line diff (longest common subsequence), with the common head and tail trimmed first. */
export function lineDiff(before: string, after: string): LineOp[] {
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops: LineOp[] = a.slice(0, head).map((text) => ({ kind: 'same', text }));
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  if (midA.length * midB.length > MAX_LCS_CELLS) {
    for (const text of midA) ops.push({ kind: 'removed', text });
    for (const text of midB) ops.push({ kind: 'added', text });
  } else {
    // lengths[i][j]: LCS length of midA[i..] and midB[j..], in one flat array.
    const w = midB.length + 1;
    const lengths = new Uint32Array((midA.length + 1) * w);
    for (let i = midA.length - 1; i >= 0; i--) {
      for (let j = midB.length - 1; j >= 0; j--) {
        lengths[i * w + j] =
          midA[i] === midB[j]
            ? (lengths[(i + 1) * w + j + 1] as number) + 1
            : Math.max(lengths[(i + 1) * w + j] as number, lengths[i * w + j + 1] as number);
      }
    }
    let i = 0;
    let j = 0;
    while (i < midA.length && j < midB.length) {
      if (midA[i] === midB[j]) {
        ops.push({ kind: 'same', text: midA[i] as string });
        i++;
        j++;
      } else if ((lengths[(i + 1) * w + j] as number) >= (lengths[i * w + j + 1] as number)) {
        ops.push({ kind: 'removed', text: midA[i++] as string });
      } else {
        ops.push({ kind: 'added', text: midB[j++] as string });
      }
    }
    while (i < midA.length) ops.push({ kind: 'removed', text: midA[i++] as string });
    while (j < midB.length) ops.push({ kind: 'added', text: midB[j++] as string });
  }
  for (const text of a.slice(a.length - tail)) ops.push({ kind: 'same', text });
  return ops;
}
