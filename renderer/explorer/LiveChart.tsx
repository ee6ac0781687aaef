import { Plus, X } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { alignSeries, appendPoints, seriesLabel, MAX_POINTS_PER_SERIES, type SeriesPoints } from './model/chartData.js';
import { useExplorer } from './explorerStore.js';
import { addSeries, fetchSeries, removeSeries } from './explorerActions.js';

/** The chart polls every series for new points this often. */
const TAIL_MS = 500;
const COLORS = ['#2f6fdb', '#2f9e6e', '#c2662d', '#9b4dca', '#c93a3a', '#1f9bb4', '#b7791f', '#6b7480'];
const CHART_HEIGHT = 260;
/** Seconds the time axis spans at least. */
const MIN_WINDOW_S = 60;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

interface Tail {
  points: SeriesPoints;
  lastSeq: number | undefined;
  error: string | undefined;
}

/** Live chart (uPlot): several numeric series, backfilled from the history, then tailed. */
export function LiveChart() {
  const series = useExplorer((s) => s.series);
  const connection = useExplorer((s) => s.selectedConnection);
  const selectedTopic = useExplorer((s) => s.selectedTopic);
  const [topic, setTopic] = useState(selectedTopic ?? '');
  const [field, setField] = useState('');
  const [errors, setErrors] = useState<string[]>([]);
  const [waiting, setWaiting] = useState(true);
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (!element || series.length === 0 || connection === undefined) return;
    setWaiting(true);
    const tails: Tail[] = series.map(() => ({ points: { at: [], values: [] }, lastSeq: undefined, error: undefined }));
    const axis = { stroke: cssVar('--muted', '#888'), grid: { stroke: cssVar('--border', '#ddd'), width: 1 } };
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: CHART_HEIGHT,
      scales: {
        x: { time: true, auto: false },
      },
      axes: [axis, { ...axis, size: 56 }],
      series: [
        {},
        ...series.map((key, i) => ({
          label: seriesLabel(key),
          stroke: COLORS[i % COLORS.length] as string,
          width: 1.5,
          spanGaps: true,
          points: { show: false },
        })),
      ],
      legend: { show: true },
    };
    // Created with its first points (an empty chart would only say nothing yet).
    let plot: uPlot | undefined;
    const resize = new ResizeObserver(() =>
      plot?.setSize({ width: Math.max(200, element.clientWidth), height: CHART_HEIGHT }),
    );
    resize.observe(element);
    let stopped = false;
    let running = false;
    const poll = async () => {
      if (running || stopped) return;
      running = true;
      let changed = false;
      await Promise.all(
        series.map(async (key, i) => {
          const tail = tails[i] as Tail;
          try {
            const page = await fetchSeries(key.topic, key.field, tail.lastSeq);
            tail.error = undefined;
            if (page.points.length > 0) {
              appendPoints(tail.points, page.points, MAX_POINTS_PER_SERIES);
              changed = true;
            }
            tail.lastSeq = page.lastSeq;
          } catch (error) {
            tail.error = `${seriesLabel(key)}: ${(error as Error).message}`;
          }
        }),
      );
      running = false;
      if (stopped) return;
      if (changed) {
        const data = alignSeries(tails.map((t) => t.points));
        if (plot) plot.setData(data as uPlot.AlignedData, false);
        else {
          plot = new uPlot(
            { ...options, width: Math.max(200, element.clientWidth) },
            data as uPlot.AlignedData,
            element,
          );
          setWaiting(false);
        }
        // At least a minute wide, set here: uPlot's own ranging of a few points received within a
        // millisecond gives a scale years wide.
        const xs = data[0];
        const first = xs[0] as number;
        const last = xs[xs.length - 1] as number;
        plot.setScale('x', { min: Math.min(first, last - MIN_WINDOW_S), max: last + 1 });
        // How many points are drawn: for tests, and a tooltip.
        element.dataset['points'] = String(tails.reduce((sum, t) => sum + t.points.at.length, 0));
      }
      const problems = tails.map((t) => t.error).filter((e): e is string => e !== undefined);
      setErrors((old) => (old.join('\n') === problems.join('\n') ? old : problems));
    };
    void poll();
    const timer = setInterval(() => void poll(), TAIL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
      resize.disconnect();
      plot?.destroy();
    };
  }, [series, connection]);

  return (
    <div className="ex-chart" data-testid="chart">
      <form
        className="ex-inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (topic.trim() === '') return;
          addSeries({ topic: topic.trim(), field: field.trim() === '' ? undefined : field.trim() });
        }}
      >
        <label>
          Topic
          <input
            value={topic}
            onChange={(e) => setTopic(e.target.value)}
            spellCheck={false}
            aria-label="Series topic"
          />
        </label>
        <label>
          JSON field
          <input
            value={field}
            onChange={(e) => setField(e.target.value)}
            placeholder="the payload itself"
            spellCheck={false}
            aria-label="Series field"
          />
        </label>
        <button type="submit">
          <Plus size={12} /> Add series
        </button>
      </form>
      <ul className="ex-series">
        {series.map((key, i) => (
          <li key={seriesLabel(key)}>
            <span className="swatch" style={{ background: COLORS[i % COLORS.length] }} />
            <code>{seriesLabel(key)}</code>
            <button
              type="button"
              className="ghost icon"
              aria-label={`Remove ${seriesLabel(key)}`}
              onClick={() => removeSeries(key)}
            >
              <X size={12} />
            </button>
          </li>
        ))}
      </ul>
      {series.length === 0 ? (
        <p className="ex-empty">
          No series yet. Add a topic (and a numeric JSON field), or use the Chart buttons under a message.
        </p>
      ) : (
        <>
          {waiting && <p className="ex-empty">Waiting for numeric points of these series…</p>}
          <div ref={host} className="ex-chart-host" />
        </>
      )}
      {errors.map((e) => (
        <div key={e} className="ex-field-error">
          {e}
        </div>
      ))}
      <p className="muted small">
        Up to {MAX_POINTS_PER_SERIES} points per series, from the topic's history and recording, then live.
      </p>
    </div>
  );
}
