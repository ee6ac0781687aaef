import { ChevronDown, ChevronRight } from 'lucide-react';
import { useState } from 'react';

/** Keys or items shown per level; a payload with more says how many are hidden. */
const MAX_ENTRIES = 200;
/** Levels open when the tree first shows. */
const OPEN_DEPTH = 2;

function Scalar({ value }: { value: unknown }) {
  if (typeof value === 'string') return <span className="jt-string">{JSON.stringify(value)}</span>;
  if (typeof value === 'number') return <span className="jt-number">{String(value)}</span>;
  if (typeof value === 'boolean') return <span className="jt-bool">{String(value)}</span>;
  return <span className="jt-null">null</span>;
}

function Entry({ name, value, depth }: { name: string | undefined; value: unknown; depth: number }) {
  const [open, setOpen] = useState(depth < OPEN_DEPTH);
  const composite = value !== null && typeof value === 'object';
  const label = name !== undefined && <span className="jt-key">{name}: </span>;
  if (!composite) {
    return (
      <div className="jt-line" style={{ paddingLeft: depth * 14 + 16 }}>
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value as Record<string, unknown>);
  const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return (
    <>
      <div className="jt-line jt-open" style={{ paddingLeft: depth * 14 }} onClick={() => setOpen(!open)}>
        {open ? <ChevronDown size={12} /> : <ChevronRight size={12} />}
        {label}
        <span className="muted">{summary}</span>
      </div>
      {open && entries.slice(0, MAX_ENTRIES).map(([k, v]) => <Entry key={k} name={k} value={v} depth={depth + 1} />)}
      {open && entries.length > MAX_ENTRIES && (
        <div className="jt-line muted" style={{ paddingLeft: (depth + 1) * 14 + 16 }}>
          … {entries.length - MAX_ENTRIES} more
        </div>
      )}
    </>
  );
}

/** A collapsible view of a JSON value (two levels open), bounded per level. */
export function JsonTree({ value }: { value: unknown }) {
  return (
    <div className="json-tree" data-testid="json-tree">
      <Entry name={undefined} value={value} depth={0} />
    </div>
  );
}
