/**
 * The `explorer-page` case of `npm run bench`: the topic explorer's page in Chromium against
 * `topicflow serve`, watching a real Mosquitto.
 *
 * - under load: bench/loadGenerator.ts publishes 10,000 msg/s (QoS 0) over 10,000 topics for 60 s
 *   (15 s with --quick) while the page shows the tree (the root folder open, one topic's detail
 *   polling its history). Measured: the page's long tasks (a `longtask` PerformanceObserver), its
 *   JS heap (CDP Performance.getMetrics, JSHeapUsedSize, once a second: peak, and first vs last
 *   quarter to see growth), the engine's peak RSS, and whether the tree's count equals what was
 *   published and what the engine counted.
 * - 100,000 topics: the tree cleared, 100,000 distinct topics published once each; then a fresh
 *   page opens the explorer. Measured from Node around the real clicks and keystrokes: open (the
 *   view's click → the summary shows 100,000 topics: snapshot over the WebSocket, tree build,
 *   first render), expand the folder holding all 100,000 (click → rows rendered), and search
 *   (typing → the match count shown; includes the 120 ms typing debounce), with the long tasks
 *   of each step.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../test/helpers/chromium.js';
import { startServe, type RunningCli } from '../test/helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../test/helpers/mosquitto.js';
import { tempDir } from '../test/helpers/paths.js';
import { connectProtocol } from '../test/helpers/protocolClient.js';
import { waitFor } from '../test/helpers/waitFor.js';
import { processStats, runGenerator } from './processes.js';

const LOAD_RATE = 10_000;
const LOAD_TOPICS = 10_000;
const MANY_TOPICS = 100_000;
/** The broker keeps everything it queued (as the other cases' broker). */
const BROKER_CONFIG = 'max_queued_messages 0\nmax_queued_bytes 0';

export interface ExplorerPageBenchResult {
  readonly load: {
    readonly seconds: number;
    readonly msgPerS: number;
    readonly topics: number;
    readonly published: number;
    /** Messages the engine's explorer counted, and the page's tree root. */
    readonly engineMessages: number;
    readonly treeMessages: number;
    readonly longTasks: number;
    readonly longestTaskMs: number;
    readonly heapPeakMb: number;
    /** Mean JS heap of the first and the last quarter of the run (growth check). */
    readonly heapFirstQuarterMb: number;
    readonly heapLastQuarterMb: number;
    readonly enginePeakRssMb: number;
    readonly deltasPerS: number;
  };
  readonly many: {
    readonly topics: number;
    /** In-page: the Explorer button's click event → the new tree's rows committed. */
    readonly openMs: number;
    /** In-page: the filter's input event → the search's rows committed (incl. the 120 ms debounce). */
    readonly searchMs: number;
    /** The same from Node around Playwright's click and fill, until the page shows the result. */
    readonly openWallMs: number;
    readonly searchWallMs: number;
    /** In-page ms from the click (a mark just before it) to: the snapshot asked, received, the tree built. */
    readonly openBreakdown: Readonly<Record<string, number>>;
    readonly expandMs: number;
    readonly searchMatches: number;
    readonly longestTaskMs: number;
    readonly heapMb: number;
  };
  readonly pageErrors: readonly string[];
}

async function heapMb(page: Page): Promise<number> {
  const session = await page.context().newCDPSession(page);
  try {
    await session.send('Performance.enable');
    const { metrics } = await session.send('Performance.getMetrics');
    return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN) / 1024 / 1024;
  } finally {
    await session.detach();
  }
}

const OBSERVE_LONG_TASKS = `
  window.__tasks = [];
  window.__deltas = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__tasks.push(e.duration);
  }).observe({ type: 'longtask' });
`;

async function takeTasks(page: Page): Promise<number[]> {
  return page.evaluate<number[]>('(() => { const t = window.__tasks; window.__tasks = []; return t; })()');
}

async function openExplorer(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.evaluate(OBSERVE_LONG_TASKS);
}

/** An in-page expression (the bench's tsconfig has no DOM types): the tree summary's attribute is `value`. */
function summaryIs(attribute: string, value: number): string {
  return `document.querySelector('[data-testid="tree-summary"]')?.getAttribute('${attribute}') === '${value}'`;
}

async function summaryNumber(page: Page, attribute: string): Promise<number> {
  return Number(await page.getByTestId('tree-summary').getAttribute(attribute));
}

export async function explorerPageBench(
  log: (line: string) => void,
  options: { readonly quick: boolean },
): Promise<ExplorerPageBenchResult> {
  const seconds = options.quick ? 15 : 60;
  const tmp = tempDir('topicflow-explorer-bench-');
  let broker: Mosquitto | undefined;
  let cli: RunningCli | undefined;
  let browser: Browser | undefined;
  try {
    broker = await startMosquitto({ extraConfig: BROKER_CONFIG });
    const served = await startServe(tmp.path, tmp.path, ['--log-level', 'warn']);
    cli = served.cli;
    const url = served.url;
    const api = await connectProtocol(`${url.replace(/^http/, 'ws').replace(/\/?(\?.*)?$/, '')}/api`);
    await api.call('explorer.connections.save', {
      config: { connection: { id: 'bench', url: broker.url }, filters: ['#'], enabled: true },
    });
    const engineInfo = async () => (await api.call('explorer.connections.list', {})).connections[0];
    await waitFor('the explorer connected', async () => (await engineInfo())?.state === 'connected', 10_000);

    browser = await chromium.launch({ ...CHROMIUM_LAUNCH });
    const context = await browser.newContext({ viewport: { width: 1440, height: 860 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    // ---- under load ----------------------------------------------------------------------------
    await openExplorer(page, url);
    await page.getByTestId('view-explorer').click();
    await page.getByTestId('explorer-connection').waitFor();
    const generator = runGenerator({
      url: broker.url,
      count: LOAD_RATE * seconds,
      qos: 0,
      rate: LOAD_RATE,
      topics: LOAD_TOPICS,
      prefixes: 1,
      padBytes: 0,
    });
    await page.locator('.ex-row[data-topic="fleet"] .ex-chevron').click();
    await page.locator('.ex-row[data-topic="fleet/dev-1"] .ex-chevron').click();
    await page.locator('.ex-row[data-topic="fleet/dev-1/telemetry"]').click();
    await takeTasks(page);
    const heaps: number[] = [];
    let engineRss = 0;
    const started = Date.now();
    let done = false;
    const finished = generator.then((r) => {
      done = true;
      return r;
    });
    while (!done) {
      heaps.push(await heapMb(page));
      if (cli.child.pid) engineRss = Math.max(engineRss, processStats(cli.child.pid).peakRssMb);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const published = (await finished).published;
    const loadSeconds = (Date.now() - started) / 1000;
    // Every message is in the tree once the last delta arrived (deltas go out 10 times a second).
    const engineMessages = await waitFor(
      'the engine to count every message',
      async () => {
        const info = await engineInfo();
        return info && info.messages >= published ? info.messages : undefined;
      },
      30_000,
    ).catch(async () => (await engineInfo())?.messages ?? 0);
    const treeMessages = await waitFor(
      'the tree to count what the engine counted',
      async () => {
        const count = await summaryNumber(page, 'data-count');
        return count >= engineMessages ? count : undefined;
      },
      10_000,
    ).catch(() => summaryNumber(page, 'data-count'));
    const loadTasks = await takeTasks(page);
    if (cli.child.pid) engineRss = Math.max(engineRss, processStats(cli.child.pid).peakRssMb);
    const quarter = Math.max(1, Math.floor(heaps.length / 4));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
    const deltas = api.events.filter((e) => e.envelope.event === 'explorer.delta').length;
    const load = {
      seconds: loadSeconds,
      msgPerS: LOAD_RATE,
      topics: LOAD_TOPICS,
      published,
      engineMessages,
      treeMessages,
      longTasks: loadTasks.length,
      longestTaskMs: Math.max(0, ...loadTasks),
      heapPeakMb: Math.max(...heaps),
      heapFirstQuarterMb: mean(heaps.slice(0, quarter)),
      heapLastQuarterMb: mean(heaps.slice(-quarter)),
      enginePeakRssMb: engineRss,
      deltasPerS: deltas / loadSeconds,
    };
    log(`explorer-page: under load: ${JSON.stringify(load)}`);

    // ---- 100,000 topics ------------------------------------------------------------------------
    await api.call('explorer.tree.clear', { connection: 'bench' });
    await runGenerator({
      url: broker.url,
      count: MANY_TOPICS,
      qos: 0,
      rate: 50_000,
      topics: MANY_TOPICS,
      prefixes: 1,
      padBytes: 0,
    });
    await waitFor(
      'the engine to hold 100,000 topics',
      async () => (await engineInfo())?.topics === MANY_TOPICS,
      60_000,
    );
    const fresh = await context.newPage();
    fresh.setDefaultTimeout(30_000);
    fresh.on('pageerror', (error) => pageErrors.push(error.message));
    await page.close();
    await openExplorer(fresh, url);
    await fresh.getByTestId('view-flow').waitFor();
    await takeTasks(fresh);
    // Wait for the page's own explorer connection (opened at start-up) to list the broker.
    await fresh.waitForFunction('window.performance.getEntriesByName("explorer:connections-listed").length > 0');
    await fresh.evaluate('performance.mark("bench:open")');
    // In-page times start at the real events (capture listeners run before React's handlers).
    await fresh.evaluate(`
      document.addEventListener('click', () => performance.mark('bench:click'), { capture: true, once: true });
      document.addEventListener('input', () => performance.mark('bench:input'), { capture: true, once: true });
    `);
    let t0 = performance.now();
    await fresh.getByTestId('view-explorer').click();
    await fresh.waitForFunction(summaryIs('data-topics', MANY_TOPICS), undefined, { polling: 'raf', timeout: 30_000 });
    const openMs = performance.now() - t0;
    const openBreakdown = await fresh.evaluate<Record<string, number>>(`(() => {
      const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
      const start = at('bench:open');
      return {
        click: at('bench:click') - start,
        snapshotRequested: at('explorer:snapshot-requested') - start,
        snapshotReceived: at('explorer:snapshot-received') - start,
        treeBuilt: at('explorer:tree-built') - start,
        treeRendered: at('explorer:tree-rendered') - start,
      };
    })()`);
    t0 = performance.now();
    await fresh.locator('.ex-row[data-topic="fleet"] .ex-chevron').click();
    await fresh.locator('.ex-row[data-topic="fleet/dev-0"]').waitFor();
    const expandMs = performance.now() - t0;
    t0 = performance.now();
    await fresh.getByLabel('Filter topics').fill('dev-9999');
    await fresh.waitForFunction(summaryIs('data-matches', 11), undefined, { polling: 'raf', timeout: 30_000 });
    await fresh.locator('.ex-row[data-topic="fleet/dev-99999/telemetry"]').waitFor();
    const searchMs = performance.now() - t0;
    const manyTasks = await takeTasks(fresh);
    const inPage = await fresh.evaluate<{ openMs: number; searchMs: number }>(`(() => {
      const at = (name) => performance.getEntriesByName(name).at(-1)?.startTime ?? NaN;
      return {
        openMs: performance.getEntriesByName('explorer:tree-rendered')[0].startTime - at('bench:click'),
        searchMs: at('explorer:search-rendered') - at('bench:input'),
      };
    })()`);
    const many = {
      topics: MANY_TOPICS,
      openMs: inPage.openMs,
      searchMs: inPage.searchMs,
      openWallMs: openMs,
      searchWallMs: searchMs,
      openBreakdown,
      expandMs,
      searchMatches: await summaryNumber(fresh, 'data-matches'),
      longestTaskMs: Math.max(0, ...manyTasks),
      heapMb: await heapMb(fresh),
    };
    log(`explorer-page: 100,000 topics: ${JSON.stringify(many)}`);
    await api.close();
    return { load, many, pageErrors };
  } finally {
    await browser?.close().catch(() => undefined);
    await cli?.stop();
    await broker?.stop();
    tmp.cleanup();
  }
}

/** The case's budgets (issue 6): longest task under load < 100 ms; 100,000 topics open and search < 1 s. */
export function explorerPageBudget(r: ExplorerPageBenchResult): { check: string; value: string; ok: boolean }[] {
  return [
    {
      check: `explorer page: counts exact under ${r.load.msgPerS} msg/s over ${r.load.topics} topics (tree = engine = published)`,
      value: `${r.load.treeMessages} / ${r.load.engineMessages} / ${r.load.published}`,
      ok: r.load.treeMessages === r.load.engineMessages && r.load.engineMessages === r.load.published,
    },
    {
      check: 'explorer page: longest task under load < 100 ms',
      value: `${r.load.longestTaskMs.toFixed(0)} ms (${r.load.longTasks} long tasks in ${r.load.seconds.toFixed(0)} s)`,
      ok: r.load.longestTaskMs < 100,
    },
    {
      check: 'explorer page: JS heap bounded under load (last quarter ≤ first quarter + 20 MB)',
      value: `peak ${r.load.heapPeakMb.toFixed(1)} MB; first ${r.load.heapFirstQuarterMb.toFixed(1)} → last ${r.load.heapLastQuarterMb.toFixed(1)} MB`,
      ok: r.load.heapLastQuarterMb <= r.load.heapFirstQuarterMb + 20,
    },
    {
      check: `explorer page: ${r.many.topics} topics open < 1 s`,
      value: `${r.many.openMs.toFixed(0)} ms in the page (${r.many.openWallMs.toFixed(0)} ms around Playwright's click)`,
      ok: r.many.openMs < 1000,
    },
    {
      check: `explorer page: ${r.many.topics} topics search < 1 s`,
      value: `${r.many.searchMs.toFixed(0)} ms in the page (${r.many.searchWallMs.toFixed(0)} ms around Playwright's fill)`,
      ok: r.many.searchMs < 1000,
    },
  ];
}

export function explorerPageMarkdown(r: ExplorerPageBenchResult): string[] {
  return [
    `| explorer page, Chromium, ${r.load.msgPerS} msg/s over ${r.load.topics} topics for ${r.load.seconds.toFixed(0)} s | measured |`,
    '| --- | --- |',
    `| messages published / counted by the engine / in the page's tree | ${r.load.published} / ${r.load.engineMessages} / ${r.load.treeMessages} |`,
    `| long tasks, longest | ${r.load.longTasks}, ${r.load.longestTaskMs.toFixed(0)} ms |`,
    `| page JS heap peak; mean of first → last quarter | ${r.load.heapPeakMb.toFixed(1)} MB; ${r.load.heapFirstQuarterMb.toFixed(1)} → ${r.load.heapLastQuarterMb.toFixed(1)} MB |`,
    `| engine (topicflow serve) peak RSS | ${r.load.enginePeakRssMb.toFixed(0)} MB |`,
    `| explorer.delta events per second (one connection) | ${r.load.deltasPerS.toFixed(1)} |`,
    `| ${r.many.topics} topics, in the page: open (click event → rows committed) / search (input event → rows committed, incl. the 120 ms debounce) | ${r.many.openMs.toFixed(0)} / ${r.many.searchMs.toFixed(0)} ms |`,
    `| ${r.many.topics} topics, from Node around Playwright's click/fill: open / expand the folder of all / search | ${r.many.openWallMs.toFixed(0)} / ${r.many.expandMs.toFixed(0)} / ${r.many.searchWallMs.toFixed(0)} ms |`,
    `| ${r.many.topics} topics, open in the page: click event / snapshot asked / received / tree built / rendered (ms after a mark just before Playwright's click) | ${Object.values(
      r.many.openBreakdown,
    )
      .map((v) => v.toFixed(0))
      .join(' / ')} |`,
    `| ${r.many.topics} topics: longest task, page JS heap | ${r.many.longestTaskMs.toFixed(0)} ms, ${r.many.heapMb.toFixed(1)} MB |`,
    '',
  ];
}
