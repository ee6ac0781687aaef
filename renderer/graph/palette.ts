/** The palette's list model: search, grouping by category, and keyboard movement. DOM-free. */

export type Category = 'source' | 'process' | 'sink';

export interface PaletteEntry {
  readonly type: string;
  readonly title: string;
  readonly summary: string;
  readonly category: Category;
}

export const CATEGORY_ORDER: readonly Category[] = ['source', 'process', 'sink'];

export interface PaletteGroup<T extends PaletteEntry> {
  readonly category: Category;
  readonly nodes: readonly T[];
}

/** Node types matching `query` (type, title or summary, case-insensitive), grouped in category order. */
export function paletteGroups<T extends PaletteEntry>(catalog: readonly T[], query: string): PaletteGroup<T>[] {
  const q = query.trim().toLowerCase();
  const matches = catalog.filter((n) => q === '' || `${n.type} ${n.title} ${n.summary}`.toLowerCase().includes(q));
  return CATEGORY_ORDER.map((category) => ({ category, nodes: matches.filter((n) => n.category === category) })).filter(
    (g) => g.nodes.length > 0,
  );
}

/** The groups' entries in the order they show, which is the order the arrow keys walk. */
export function visibleOrder<T extends PaletteEntry>(groups: readonly PaletteGroup<T>[]): T[] {
  return groups.flatMap((g) => g.nodes);
}

/**
 * The active entry after a key: ArrowDown/ArrowUp step and wrap, Home/End jump; -1 (none) when
 * the list is empty. From none, ArrowDown goes to the first entry and ArrowUp to the last.
 */
export function moveActive(active: number, key: string, length: number): number {
  if (length === 0) return -1;
  switch (key) {
    case 'ArrowDown':
      return active < 0 ? 0 : (active + 1) % length;
    case 'ArrowUp':
      return active < 0 ? length - 1 : (active - 1 + length) % length;
    case 'Home':
      return 0;
    case 'End':
      return length - 1;
    default:
      return Math.min(active, length - 1);
  }
}
