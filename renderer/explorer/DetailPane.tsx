import { ChartLine, Send, TextSearch } from 'lucide-react';
import { LiveChart } from './LiveChart.js';
import { PublishPanel } from './PublishPanel.js';
import { setDetailTab, useExplorer, type DetailTab } from './explorerStore.js';
import { TopicDetail } from './TopicDetail.js';

const TABS: readonly { id: DetailTab; label: string; icon: typeof Send }[] = [
  { id: 'detail', label: 'Topic', icon: TextSearch },
  { id: 'chart', label: 'Chart', icon: ChartLine },
  { id: 'publish', label: 'Publish', icon: Send },
];

/** The right-hand pane: the selected topic, the live chart, the publish panel. */
export function DetailPane() {
  const tab = useExplorer((s) => s.detailTab);
  const series = useExplorer((s) => s.series.length);
  return (
    <section className="ex-detail" aria-label="Topic detail">
      <div className="panel-tabs" role="tablist">
        {TABS.map(({ id, label, icon: Icon }) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={tab === id}
            className={`panel-tab${tab === id ? ' active' : ''}`}
            onClick={() => setDetailTab(id)}
          >
            <Icon size={14} /> {label}
            {id === 'chart' && series > 0 && <span className="count">{series}</span>}
          </button>
        ))}
      </div>
      <div className="ex-detail-body" role="tabpanel">
        {tab === 'detail' && <TopicDetail />}
        {tab === 'chart' && <LiveChart />}
        {tab === 'publish' && <PublishPanel />}
      </div>
    </section>
  );
}
