import { useEffect } from 'react';
import { ConnectionForm } from './ConnectionForm.js';
import { ConnectionsSidebar } from './ConnectionsSidebar.js';
import { DetailPane } from './DetailPane.js';
import { dismissExplorerNotice, ensureExplorerClient, useExplorer } from './explorerStore.js';
import { FlowDialog } from './FlowDialog.js';
import { RetainedConfirmDialog } from './RetainedConfirmDialog.js';
import { TopicTreePane } from './TopicTreePane.js';

const CLIENT_LABEL = { open: 'Connected', connecting: 'Connecting…', closed: 'Reconnecting…' } as const;

/** The topic explorer: brokers on the left, the selected one's topic tree, the topic's detail. */
export function ExplorerView() {
  const notice = useExplorer((s) => s.notice);
  const client = useExplorer((s) => s.client);
  const editing = useExplorer((s) => s.editing);
  const flowDialog = useExplorer((s) => s.flowDialog !== undefined);
  const confirm = useExplorer((s) => s.retainedConfirm !== undefined);

  useEffect(() => ensureExplorerClient(), []);

  return (
    <div className="explorer">
      <header className="toolbar ex-header">
        <span className="brand">TopicFlow</span>
        <span className="ex-title">Topic explorer</span>
        <div className="notice-slot">
          {notice && (
            <button
              type="button"
              className={`notice ${notice.kind}`}
              onClick={dismissExplorerNotice}
              title={`${notice.text} (click to dismiss)`}
              data-testid="explorer-notice"
            >
              {notice.text}
            </button>
          )}
        </div>
        <span className={`connection ${client}`} data-testid="explorer-client">
          <span className="dot" />
          {CLIENT_LABEL[client]}
        </span>
      </header>
      <ConnectionsSidebar />
      <TopicTreePane />
      <DetailPane />
      {editing !== undefined && <ConnectionForm id={editing} />}
      {flowDialog && <FlowDialog />}
      {confirm && <RetainedConfirmDialog />}
    </div>
  );
}
