import { useExplorer } from './explorerStore.js';
import { cancelClearRetained, clearRetained } from './explorerActions.js';

/** Topics listed in the confirmation at most; the count covers them all. */
const LISTED_MAX = 50;

/** Confirms clearing a subtree of retained messages, naming how many topics and which. */
export function RetainedConfirmDialog() {
  const confirm = useExplorer((s) => s.retainedConfirm);
  if (!confirm) return null;
  const n = confirm.topics.length;
  return (
    <div className="ex-modal-backdrop" role="presentation">
      <div className="ex-modal" role="alertdialog" aria-label="Clear retained messages">
        <div className="ex-modal-head">
          <span>Clear retained messages under {confirm.topic}?</span>
        </div>
        <p data-testid="retained-count">
          {n === 0
            ? 'The tree saw no retained message under this topic.'
            : `${n} topic${n === 1 ? '' : 's'} hold a retained message. Each gets an empty retained publish, and the broker forgets it.`}
        </p>
        {n > 0 && (
          <ul className="ex-retained-list">
            {confirm.topics.slice(0, LISTED_MAX).map((t) => (
              <li key={t}>
                <code>{t}</code>
              </li>
            ))}
            {n > LISTED_MAX && <li className="muted">… and {n - LISTED_MAX} more</li>}
          </ul>
        )}
        <div className="ex-modal-actions">
          <button type="button" onClick={cancelClearRetained}>
            Cancel
          </button>
          <button
            type="button"
            className="primary danger"
            disabled={n === 0}
            onClick={() => void clearRetained(confirm.topic, true)}
          >
            Clear {n} retained
          </button>
        </div>
      </div>
    </div>
  );
}
