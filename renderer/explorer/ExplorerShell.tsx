import { ListTree, Workflow } from 'lucide-react';
import { useEffect, type ReactNode } from 'react';
import './explorer.css';
import { ExplorerView } from './ExplorerView.js';
import { ensureExplorerClient, showView, useExplorer, type ExplorerViewName } from './explorerStore.js';

const VIEWS: readonly { id: ExplorerViewName; label: string; icon: typeof Workflow }[] = [
  { id: 'flow', label: 'Flow', icon: Workflow },
  { id: 'explorer', label: 'Explorer', icon: ListTree },
];

/**
 * The activity bar on the left (as in VS Code) and the view it selects: the flow editor (the
 * children) or the topic explorer. The editor unmounts while the explorer shows; its state lives
 * in the editor store, so nothing is lost.
 */
export function ExplorerShell({ children }: { children: ReactNode }) {
  const view = useExplorer((s) => s.view);
  // Connect and list the brokers at start-up (cheap), so opening the explorer only loads a tree.
  useEffect(() => ensureExplorerClient(), []);
  return (
    <div className="tf-shell">
      <nav className="activity-bar" aria-label="Views">
        {VIEWS.map(({ id, label, icon: Icon }) => (
          <button
            key={id}
            type="button"
            className={`activity${view === id ? ' active' : ''}`}
            aria-pressed={view === id}
            aria-label={label}
            title={label}
            onClick={() => showView(id)}
            data-testid={`view-${id}`}
          >
            <Icon size={20} strokeWidth={1.6} />
          </button>
        ))}
      </nav>
      <div className="tf-view">{view === 'explorer' ? <ExplorerView /> : children}</div>
    </div>
  );
}
