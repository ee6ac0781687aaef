import { Cog, Database, Radio, type LucideIcon } from 'lucide-react';
import type { NodeCategory } from '../../shared/nodes/nodeSpec.js';
import { CATEGORY_LABEL } from './categories.js';

const ICONS: Record<NodeCategory, LucideIcon> = { source: Radio, process: Cog, sink: Database };

/** The icon of a node category (palette, nodes, inspector); its name is the category's label. */
export function CategoryIcon({ category, size = 14 }: { category: NodeCategory; size?: number }) {
  const Icon = ICONS[category];
  return (
    <Icon className={`category-icon cat-${category}`} size={size} aria-label={CATEGORY_LABEL[category]} role="img" />
  );
}
