import { Circle, Download, Square } from 'lucide-react';
import { useEffect, useState } from 'react';
import { refreshRecordings, useExplorer } from './explorerStore.js';
import { exportRecording, startRecording, stopRecording } from './explorerActions.js';
import { compactNumber, formatBytes } from './model/payload.js';
import { filterFor } from './model/flowPlan.js';

const HOUR_MS = 3_600_000;
/** How often the open section refreshes the recording's row count. */
const REFRESH_MS = 2000;

/** Recording the topic or subtree to SQLite (with retention), and exporting what was recorded. */
export function RecordingSection({ topic, subtree }: { topic: string; subtree: boolean }) {
  const connection = useExplorer((s) => s.selectedConnection);
  const recording = useExplorer((s) => s.recordings.find((r) => r.connection === connection));
  const [filter, setFilter] = useState(() => filterFor(topic, subtree));
  const [hours, setHours] = useState('24');
  const [maxRows, setMaxRows] = useState('100000');
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (!recording?.active) return;
    const timer = setInterval(() => void refreshRecordings(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [recording?.active]);

  const start = () => {
    const h = Number(hours);
    const rows = Number(maxRows);
    if (!Number.isFinite(h) || h < 0) return setError('Keep for: hours, 0 or more (0 = by row count only)');
    if (!Number.isInteger(rows) || rows < 1) return setError('Max rows: a whole number, 1 or more');
    if (filter.trim() === '') return setError('Filter: the topics to record');
    setError(undefined);
    void startRecording([filter.trim()], Math.round(h * HOUR_MS), rows);
  };

  return (
    <div className="ex-recording" data-testid="recording">
      <div className="ex-subhead">
        Recording{' '}
        {recording && (
          <span className="muted">
            {recording.active ? <span className="rec-dot" /> : null}
            {recording.active ? 'recording ' : 'stopped · '}
            {recording.filters.join(', ')} · {compactNumber(recording.rows)} rows · {formatBytes(recording.bytes)}
          </span>
        )}
      </div>
      <div className="ex-inline-form">
        <label>
          Filter
          <input
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            spellCheck={false}
            aria-label="Record filter"
          />
        </label>
        <label>
          Keep (h)
          <input value={hours} onChange={(e) => setHours(e.target.value)} className="narrow" aria-label="Keep hours" />
        </label>
        <label>
          Max rows
          <input
            value={maxRows}
            onChange={(e) => setMaxRows(e.target.value)}
            className="narrow"
            aria-label="Max rows"
          />
        </label>
        {recording?.active ? (
          <button type="button" onClick={() => void stopRecording()}>
            <Square size={12} /> Stop
          </button>
        ) : (
          <button type="button" onClick={start}>
            <Circle size={12} className="rec-icon" /> Record
          </button>
        )}
      </div>
      {error && <div className="ex-field-error">{error}</div>}
      {recording && recording.rows > 0 && (
        <div className="ex-inline-form">
          <span className="muted">Export {filter}:</span>
          <button type="button" onClick={() => void exportRecording('jsonl', filter.trim() || undefined)}>
            <Download size={12} /> JSON Lines
          </button>
          <button type="button" onClick={() => void exportRecording('csv', filter.trim() || undefined)}>
            <Download size={12} /> CSV
          </button>
        </div>
      )}
    </div>
  );
}
