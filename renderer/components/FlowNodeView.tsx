import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNodeData } from '../graph/flowGraph.js';
import { useEditor } from '../store.js';
import { CategoryIcon } from './CategoryIcon.js';

type FlowNodeType = Node<FlowNodeData, 'flowNode'>;

const PORT_SPACING = 22;
const PORT_TOP = 46;

function formatCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** One flow node: category colour, type and title, its ports as handles, live counters, problems. */
export const FlowNodeView = memo(function FlowNodeView({ id, data, selected }: NodeProps<FlowNodeType>) {
  const spec = useEditor((s) => s.catalogByType[data.type]);
  const badge = useEditor((s) => s.badges[id]);
  const problemCount = useEditor((s) => s.problems.filter((p) => p.nodeId === id && p.severity === 'error').length);
  const inputs = spec?.inputs ?? [];
  const outputs = spec?.outputs ?? [];
  const rows = Math.max(inputs.length, outputs.length, 1);
  return (
    <div
      className={`flow-node cat-${spec?.category ?? 'unknown'}${selected ? ' selected' : ''}${problemCount > 0 ? ' has-problems' : ''}`}
      style={{ minHeight: PORT_TOP + rows * PORT_SPACING }}
      data-testid={`node-${id}`}
    >
      <div className="flow-node-head">
        {spec && <CategoryIcon category={spec.category} size={12} />}
        <span className="flow-node-type">{data.type}</span>
        {problemCount > 0 && (
          <span
            className="flow-node-problems"
            title="Problems: see the problems list"
            aria-label={`${problemCount} problem${problemCount === 1 ? '' : 's'}`}
          >
            {problemCount} ⚠
          </span>
        )}
      </div>
      <div className="flow-node-title">{data.name || spec?.title || data.type}</div>
      {inputs.map((port, i) => (
        <Handle
          key={`in-${port.name}`}
          type="target"
          position={Position.Left}
          id={port.name}
          style={{ top: PORT_TOP + i * PORT_SPACING }}
          title={`${port.name}: ${port.description}`}
        />
      ))}
      {outputs.map((port, i) => (
        <Handle
          key={`out-${port.name}`}
          type="source"
          position={Position.Right}
          id={port.name}
          style={{ top: PORT_TOP + i * PORT_SPACING }}
          title={`${port.name}: ${port.description}`}
        />
      ))}
      {outputs.length > 1 &&
        outputs.map((port, i) => (
          <span key={`label-${port.name}`} className="port-label out" style={{ top: PORT_TOP + i * PORT_SPACING - 7 }}>
            {port.name}
          </span>
        ))}
      <div className={`flow-node-badge${badge ? ` state-${badge.state}` : ''}`} data-testid={`badge-${id}`}>
        {badge ? (
          <>
            <span title="messages in">in {formatCount(badge.in)}</span>
            <span title="messages out">out {formatCount(badge.out)}</span>
            <span className={badge.errors > 0 ? 'errors' : ''} title={badge.error ?? 'errors'}>
              err {formatCount(badge.errors)}
            </span>
          </>
        ) : (
          <span className="muted">not deployed</span>
        )}
      </div>
    </div>
  );
});
