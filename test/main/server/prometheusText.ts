import assert from 'node:assert/strict';

/** Parses Prometheus text format 0.0.4 into `name{labels}` → value (labels as written, in order). */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

/** The samples of one metric (by exact name), keyed by their label string. */
export function samplesOf(samples: Map<string, number>, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const [key, value] of samples) {
    if (key === name) found.set('', value);
    else if (key.startsWith(`${name}{`)) found.set(key.slice(name.length), value);
  }
  return found;
}
