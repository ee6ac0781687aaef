import type { TopicColumns, TopicStat } from '../../../shared/protocol/explorerProtocol.js';

/**
 * The page's topic tree of one connection, built from `explorer.tree.snapshot` and kept up to date
 * by `explorer.delta`. The engine sends one aggregate per topic (a leaf); folders are sums kept
 * here. Every update is incremental: a changed topic adjusts its own node and adds the difference
 * to each ancestor (O(depth)), so a delta never rebuilds the tree, even at 100,000 topics.
 *
 * Hand-written because no tree library keeps summed aggregates under incremental updates; the
 * rows it flattens go to @tanstack/react-virtual, which renders only what is on screen.
 */

export interface TopicNode {
  /** This level's name (may be empty: `a//b`, `/a`). */
  readonly name: string;
  /** The topic up to this level (`a/b`); '' for the root. */
  readonly path: string;
  readonly depth: number;
  readonly parent: TopicNode | undefined;
  /**
   * Child levels: none, the only child itself, or a Map by name from the second child on. Most
   * levels of large trees have one child (`dev-17/telemetry`), and a Map per node was half the
   * cost of building a tree of 100,000 topics.
   */
  children: TopicNode | Map<string, TopicNode> | undefined;
  /** The children sorted by name, or undefined when a child was added since (sorted lazily). */
  sorted: TopicNode[] | undefined;
  /** The engine's aggregate when this level is itself a topic that received messages. */
  stat: TopicStat | undefined;
  /** Sums over this node and everything under it. */
  count: number;
  bytes: number;
  rate: number;
  /** Topics (nodes with a stat) in this subtree. */
  topics: number;
  /** Topics in this subtree whose last message was retained. */
  retained: number;
  /** Newest `lastAt` in this subtree. */
  lastAt: number;
  /** The lower-cased path, for search; computed by the first search that needs it. */
  lowerPath: string | undefined;
}

export interface TopicTree {
  readonly root: TopicNode;
  /** Every node with a stat (a topic), in arrival order: search scans this instead of walking. */
  readonly topicNodes: TopicNode[];
  readonly byTopic: Map<string, TopicNode>;
  /** Bumped when a node is added (the rows must be flattened again). */
  structure: number;
  /** Bumped on every applied change (counts to repaint). */
  data: number;
}

function makeNode(name: string, path: string, parent: TopicNode | undefined): TopicNode {
  return {
    name,
    path,
    depth: parent ? parent.depth + 1 : -1,
    parent,
    children: undefined,
    sorted: undefined,
    stat: undefined,
    count: 0,
    bytes: 0,
    rate: 0,
    topics: 0,
    retained: 0,
    lastAt: 0,
    lowerPath: undefined,
  };
}

export function createTree(): TopicTree {
  return { root: makeNode('', '', undefined), topicNodes: [], byTopic: new Map(), structure: 0, data: 0 };
}

/** The node of `topic`, creating it and any missing ancestors. */
function nodeFor(tree: TopicTree, topic: string): TopicNode {
  const known = tree.byTopic.get(topic);
  if (known) return known;
  let node = tree.root;
  let start = 0;
  for (;;) {
    const slash = topic.indexOf('/', start);
    const end = slash === -1 ? topic.length : slash;
    const name = topic.slice(start, end);
    let child = childNamed(node, name);
    if (!child) {
      child = makeNode(name, topic.slice(0, end), node);
      const children = node.children;
      if (children === undefined) node.children = child;
      else if (children instanceof Map) children.set(name, child);
      else
        node.children = new Map([
          [children.name, children],
          [name, child],
        ]);
      node.sorted = undefined;
      tree.structure++;
    }
    node = child;
    if (slash === -1) break;
    start = slash + 1;
  }
  tree.byTopic.set(topic, node);
  return node;
}

/**
 * Applies the newest aggregates of some topics (a delta, or a snapshot into an empty tree); with
 * `from`/`to`, only that slice of `stats` (a large snapshot is applied in slices between frames).
 */
export function applyStats(tree: TopicTree, stats: readonly TopicStat[], from = 0, to = stats.length): void {
  for (let i = from; i < to; i++) {
    const stat = stats[i] as TopicStat;
    const node = nodeFor(tree, stat.topic);
    const old = node.stat;
    if (!old) tree.topicNodes.push(node);
    const dCount = stat.count - (old?.count ?? 0);
    const dBytes = stat.bytes - (old?.bytes ?? 0);
    const dRate = stat.rate - (old?.rate ?? 0);
    const dTopics = old ? 0 : 1;
    const dRetained = (stat.retained ? 1 : 0) - (old?.retained ? 1 : 0);
    node.stat = stat;
    for (let n: TopicNode | undefined = node; n; n = n.parent) {
      n.count += dCount;
      n.bytes += dBytes;
      n.rate += dRate;
      n.topics += dTopics;
      n.retained += dRetained;
      if (stat.lastAt > n.lastAt) n.lastAt = stat.lastAt;
    }
  }
  // Float sums drift a little over many updates; a rate is never negative.
  if (tree.root.rate < 0) tree.root.rate = 0;
  tree.data++;
}

/** The TopicStat of entry `i` of a columnar snapshot. */
function topicStatAt(c: TopicColumns, i: number): TopicStat {
  return {
    topic: c.topic[i] as string,
    count: c.count[i] as number,
    bytes: c.bytes[i] as number,
    rate: c.rate[i] as number,
    lastAt: c.lastAt[i] as number,
    retained: c.retained[i] === 1,
    qos: c.qos[i] as 0 | 1 | 2,
    size: c.size[i] as number,
    preview: c.preview[i] as string,
  };
}

/** applyStats over entries `from` to `to` of a columnar snapshot. */
export function applyColumns(tree: TopicTree, columns: TopicColumns, from = 0, to = columns.topic.length): void {
  const stats = new Array<TopicStat>(to - from);
  for (let i = from; i < to; i++) stats[i - from] = topicStatAt(columns, i);
  applyStats(tree, stats);
}

/** A fresh tree holding `stats` (a snapshot). */
export function treeFromSnapshot(stats: readonly TopicStat[]): TopicTree {
  const tree = createTree();
  applyStats(tree, stats);
  return tree;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Natural order, so `dev2` comes before `dev10`: digit runs compare as numbers. Hand-written
 * because Intl.Collator with `numeric` is several times slower, and sorting 100,000 siblings must
 * stay well inside the tree's one-second budget.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ei = i;
      let ej = j;
      while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
      while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
      // Leading zeros aside, a longer run is a larger number.
      let si = i;
      let sj = j;
      while (si < ei - 1 && a.charCodeAt(si) === 48) si++;
      while (sj < ej - 1 && b.charCodeAt(sj) === 48) sj++;
      if (ei - si !== ej - sj) return ei - si - (ej - sj);
      for (; si < ei; si++, sj++) {
        const d = a.charCodeAt(si) - b.charCodeAt(sj);
        if (d !== 0) return d;
      }
      if (ei - i !== ej - j) return ei - i - (ej - j);
      i = ei;
      j = ej;
    } else {
      if (ca !== cb) return ca - cb;
      i++;
      j++;
    }
  }
  return a.length - i - (b.length - j);
}

function childNamed(node: TopicNode, name: string): TopicNode | undefined {
  const children = node.children;
  if (children === undefined) return undefined;
  if (children instanceof Map) return children.get(name);
  return children.name === name ? children : undefined;
}

export function childCount(node: TopicNode): number {
  const children = node.children;
  return children === undefined ? 0 : children instanceof Map ? children.size : 1;
}

export function childrenOf(node: TopicNode): Iterable<TopicNode> {
  const children = node.children;
  return children === undefined ? [] : children instanceof Map ? children.values() : [children];
}

export function sortedChildren(node: TopicNode): readonly TopicNode[] {
  if (!node.sorted) node.sorted = [...childrenOf(node)].sort((a, b) => naturalCompare(a.name, b.name));
  return node.sorted;
}

export function findNode(tree: TopicTree, path: string): TopicNode | undefined {
  const direct = tree.byTopic.get(path);
  if (direct) return direct;
  let node: TopicNode | undefined = tree.root;
  for (const name of path.split('/')) {
    node = childNamed(node, name);
    if (!node) return undefined;
  }
  return node;
}

/** The topics (nodes with a stat) at and under `node`. */
export function topicsUnder(node: TopicNode, limit = Number.POSITIVE_INFINITY): TopicNode[] {
  const found: TopicNode[] = [];
  const stack: TopicNode[] = [node];
  while (stack.length > 0 && found.length < limit) {
    const n = stack.pop() as TopicNode;
    if (n.stat) found.push(n);
    for (const child of childrenOf(n)) stack.push(child);
  }
  return found;
}

export interface SearchResult {
  readonly query: string;
  /** Topics whose path contains the query. */
  readonly matches: number;
  /** The matches and all their ancestors: what stays visible. */
  readonly visible: ReadonlySet<TopicNode>;
}

/**
 * Topics whose path contains `query` (case-insensitive), and the ancestors that keep them in
 * sight. One scan of the topics plus a walk up from each match, stopping at an ancestor already
 * marked, so 100,000 topics take a few milliseconds.
 */
export function searchTree(tree: TopicTree, query: string): SearchResult {
  const needle = query.toLowerCase();
  const visible = new Set<TopicNode>();
  let matches = 0;
  for (const node of tree.topicNodes) {
    node.lowerPath ??= node.path.toLowerCase();
    if (!node.lowerPath.includes(needle)) continue;
    matches++;
    for (let n: TopicNode | undefined = node; n && n !== tree.root && !visible.has(n); n = n.parent) visible.add(n);
  }
  return { query, matches, visible };
}

export interface TreeRow {
  readonly node: TopicNode;
  readonly expanded: boolean;
  readonly hasChildren: boolean;
}

/**
 * The rows on screen, in order: each level's children sorted by name, descending only into
 * expanded nodes. With a search, only visible nodes appear and they are expanded unless the user
 * collapsed them during this search (`collapsed`).
 */
export function flattenRows(
  tree: TopicTree,
  expanded: ReadonlySet<string>,
  search?: { readonly result: SearchResult; readonly collapsed: ReadonlySet<string> },
): TreeRow[] {
  const rows: TreeRow[] = [];
  // An explicit stack instead of recursion: topic trees can be deep (up to MQTT's 65,535 bytes).
  const stack: TopicNode[] = [];
  const pushChildren = (node: TopicNode) => {
    const children = sortedChildren(node);
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i] as TopicNode;
      if (!search || search.result.visible.has(child)) stack.push(child);
    }
  };
  pushChildren(tree.root);
  while (stack.length > 0) {
    const node = stack.pop() as TopicNode;
    const hasChildren = node.children !== undefined;
    const open = hasChildren && (search ? !search.collapsed.has(node.path) : expanded.has(node.path));
    rows.push({ node, expanded: open, hasChildren });
    if (open) pushChildren(node);
  }
  return rows;
}
