/** Points of the live chart: bounded per series, and aligned on one time axis for uPlot. */

/** Points kept per series; older ones drop off the left edge. */
export const MAX_POINTS_PER_SERIES = 2000;
/** Series on the chart at most. */
export const MAX_SERIES = 8;

export interface SeriesKey {
  readonly topic: string;
  /** Dotted JSON path, or undefined for a payload that is itself a number. */
  readonly field: string | undefined;
}

export interface SeriesPoints {
  /** Epoch ms, ascending. */
  readonly at: number[];
  readonly values: number[];
}

export function seriesLabel(key: SeriesKey): string {
  return key.field ? `${key.topic} · ${key.field}` : key.topic;
}

export function sameSeries(a: SeriesKey, b: SeriesKey): boolean {
  return a.topic === b.topic && (a.field ?? '') === (b.field ?? '');
}

/** Appends points (in time order) and drops the oldest beyond `max`; mutates and returns `series`. */
export function appendPoints(
  series: SeriesPoints,
  points: readonly (readonly [number, number])[],
  max = MAX_POINTS_PER_SERIES,
): SeriesPoints {
  for (const [at, value] of points) {
    // Out-of-order points (a backfill racing a poll) are dropped rather than re-sorting.
    const last = series.at[series.at.length - 1];
    if (last !== undefined && at < last) continue;
    series.at.push(at);
    series.values.push(value);
  }
  const excess = series.at.length - max;
  if (excess > 0) {
    series.at.splice(0, excess);
    series.values.splice(0, excess);
  }
  return series;
}

/**
 * uPlot's data: one shared x array (seconds) and one y array per series with null where that
 * series has no point at that time. A k-way merge of the sorted series, so O(total points).
 */
export function alignSeries(all: readonly SeriesPoints[]): [number[], ...(number | null)[][]] {
  const xs: number[] = [];
  const ys: (number | null)[][] = all.map(() => []);
  const index = all.map(() => 0);
  for (;;) {
    let next = Number.POSITIVE_INFINITY;
    for (let s = 0; s < all.length; s++) {
      const at = (all[s] as SeriesPoints).at[index[s] as number];
      if (at !== undefined && at < next) next = at;
    }
    if (next === Number.POSITIVE_INFINITY) break;
    xs.push(next / 1000);
    for (let s = 0; s < all.length; s++) {
      const series = all[s] as SeriesPoints;
      const i = index[s] as number;
      if (series.at[i] === next) {
        (ys[s] as (number | null)[]).push(series.values[i] as number);
        index[s] = i + 1;
      } else {
        (ys[s] as (number | null)[]).push(null);
      }
    }
  }
  return [xs, ...ys];
}
