/**
 * The `editor` case of `npm run bench`: the React Flow editor in Chromium (as test/e2e/editor.test.ts
 * launches it) against `topicflow serve`, on a generated 500-node flow.
 *
 * - open + fit: in-page `performance.now()` from the Open menu item's `click` event (a capture
 *   listener on `document`, before React's handler) to the first animation frame in which the
 *   nodes in view are rendered and measured (none `visibility: hidden`; the editor mounts only
 *   those, `onlyRenderVisibleElements`) and the viewport transform has been set by `fitView`
 *   (changed from the empty canvas's), with neither changing on the next frame.
 * - drag: one node dragged in a circle with real mouse events for ~1 s while an in-page
 *   `requestAnimationFrame` loop records the frame intervals.
 * - under load: the same flow deployed; its first chain starts with a `simulator` (emit mode, 1,000
 *   devices every 50 ms = 20,000 msg/s) through validate → transform → sqlite-sink, the other 99
 *   chains subscribe to the embedded broker (idle). For 10 s: a `longtask` PerformanceObserver and
 *   a rAF loop in the page, the `status` events the page's WebSocket received, and the sink's
 *   `in` counter from those events (the achieved rate).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../test/helpers/chromium.js';
import { startServe, type RunningCli } from '../test/helpers/cli.js';
import { tempDir } from '../test/helpers/paths.js';
import { percentile } from './stats.js';

const CHAINS = 100;
const LOAD_DEVICES = 1000;
const LOAD_INTERVAL_MS = 50;
const LOAD_SECONDS = 10;
const DRAG_MS = 1000;

export interface FrameStats {
  readonly frames: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export interface EditorBenchResult {
  readonly nodes: number;
  readonly edges: number;
  /** In-page performance.now(): Open menu item click → all nodes rendered and fitView applied. */
  readonly openFitMs: number;
  readonly drag: FrameStats & { readonly mouseMoves: number; readonly seconds: number };
  readonly load: {
    readonly targetMsgPerS: number;
    /** From the sink's `in` counter in the status events the page received. */
    readonly achievedMsgPerS: number;
    readonly seconds: number;
    readonly longTasks: number;
    readonly longestTaskMs: number;
    readonly frames: FrameStats;
    readonly statusEvents: number;
    readonly statusEventsPerS: number;
  };
  readonly pageErrors: readonly string[];
}

const frameStats = (intervals: number[]): FrameStats => {
  const sorted = [...intervals].sort((a, b) => a - b);
  return {
    frames: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1] ?? NaN,
  };
};

/** 100 chains of mqtt-in → validate → transform → sqlite-sink, plus a debug on `invalid`; chain 0 starts with the simulator. */
export function generateFlow(chains = CHAINS): object {
  const nodes: object[] = [];
  const edges: object[] = [];
  const layout: Record<string, { x: number; y: number }> = {};
  const perRow = 4;
  for (let c = 0; c < chains; c++) {
    const ids = ['source', 'check', 'shape', 'store', 'rejects'].map((s) => `c${c}-${s}`);
    const [source, check, shape, store, rejects] = ids as [string, string, string, string, string];
    nodes.push(
      c === 0
        ? {
            id: source,
            type: 'simulator',
            name: 'Load',
            config: {
              mode: 'emit',
              devices: LOAD_DEVICES,
              profiles: ['sensor'],
              intervalMs: LOAD_INTERVAL_MS,
              statusEvery: 1_000_000,
              anomalyRate: 0,
              seed: 1,
            },
          }
        : {
            id: source,
            type: 'mqtt-in',
            name: `Line ${c}`,
            config: { connection: 'local', topic: `plant/line${c}/{device}/telemetry`, qos: 0, decoding: 'json' },
          },
      {
        id: check,
        type: 'validate',
        config: {
          schema: {
            type: 'object',
            required: ['deviceId', 'seq'],
            properties: { deviceId: { type: 'string' }, seq: { type: 'integer' }, temperature: { type: 'number' } },
          },
        },
      },
      {
        id: shape,
        type: 'transform',
        config: { expression: '{ "device": deviceId, "seq": seq, "temperature": temperature }' },
      },
      {
        id: store,
        type: 'sqlite-sink',
        config: {
          table: `line${c}`,
          mode: 'row',
          columns: [
            { name: 'device', path: 'payload.device', type: 'text' },
            { name: 'seq', path: 'payload.seq', type: 'integer' },
            { name: 'temperature', path: 'payload.temperature', type: 'real' },
          ],
        },
      },
      { id: rejects, type: 'debug', config: {} },
    );
    edges.push(
      { id: `c${c}-e1`, from: { node: source, port: 'out' }, to: { node: check, port: 'in' } },
      { id: `c${c}-e2`, from: { node: check, port: 'valid' }, to: { node: shape, port: 'in' } },
      { id: `c${c}-e3`, from: { node: shape, port: 'out' }, to: { node: store, port: 'in' } },
      { id: `c${c}-e4`, from: { node: check, port: 'invalid' }, to: { node: rejects, port: 'in' } },
    );
    const x0 = (c % perRow) * 1300;
    const y0 = Math.floor(c / perRow) * 260;
    layout[source] = { x: x0, y: y0 };
    layout[check] = { x: x0 + 260, y: y0 };
    layout[shape] = { x: x0 + 520, y: y0 };
    layout[store] = { x: x0 + 780, y: y0 };
    layout[rejects] = { x: x0 + 520, y: y0 + 120 };
  }
  return {
    format: 'topicflow/flow@1',
    name: `Editor bench (${nodes.length} nodes)`,
    connections: [{ id: 'local', name: 'Embedded broker', embedded: { port: 0 } }],
    nodes,
    edges,
    layout: { nodes: layout },
  };
}

async function bounded<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Page-side helpers, as source text (the bench is compiled without DOM types). */
const PAGE_HELPERS = `
window.__bench = {
  frames(run) {
    const intervals = [];
    let last;
    const loop = (t) => {
      if (last !== undefined) intervals.push(t - last);
      last = t;
      if (run.on) requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
    return intervals;
  },
  armOpen(expected) {
    const state = { start: undefined };
    const before = document.querySelector('.react-flow__viewport')?.style.transform;
    document.addEventListener('click', (e) => {
      if (state.start === undefined && e.target.closest('[role="menuitem"]')) state.start = performance.now();
    }, true);
    window.__bench.opened = new Promise((resolve) => {
      let heldAt;
      let heldTransform;
      let heldCount;
      const check = () => {
        const now = performance.now();
        const nodes = document.querySelectorAll('.react-flow__node');
        const transform = document.querySelector('.react-flow__viewport')?.style.transform;
        // The editor mounts only the nodes in view (onlyRenderVisibleElements): done when the
        // nodes in view are all mounted and measured, and neither they nor the transform changed
        // over a frame.
        let ready = state.start !== undefined && nodes.length > 0 && nodes.length <= expected && transform !== before;
        if (ready) for (const n of nodes) if (n.style.visibility === 'hidden') { ready = false; break; }
        if (!ready) heldAt = undefined;
        else if (heldAt !== undefined && transform === heldTransform && nodes.length === heldCount) return resolve(heldAt - state.start);
        else { heldAt = now; heldTransform = transform; heldCount = nodes.length; }
        requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    });
  },
};
`;

async function openFromMenu(page: Page, file: RegExp): Promise<void> {
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await page.getByRole('menuitem', { name: file }).click();
}

export async function editorBench(log: (text: string) => void): Promise<EditorBenchResult> {
  const tmp = tempDir('topicflow-bench-editor-');
  let cli: RunningCli | undefined;
  let context: BrowserContext | undefined;
  try {
    const workspace = join(tmp.path, 'flows');
    mkdirSync(workspace);
    const flow = generateFlow() as { nodes: { id: string }[]; edges: unknown[] };
    writeFileSync(join(workspace, 'editor-bench.json'), `${JSON.stringify(flow, null, 2)}\n`);
    const total = flow.nodes.length;
    const served = await startServe(workspace, join(tmp.path, 'data'));
    cli = served.cli;
    const url = served.url;
    // A fresh user-data dir: no profile carried between runs.
    context = await chromium.launchPersistentContext(join(tmp.path, 'chromium-profile'), {
      ...CHROMIUM_LAUNCH,
      viewport: { width: 1440, height: 860 },
      colorScheme: 'light',
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept());
    // Status events as the page's WebSocket receives them.
    const statuses: { at: number; sinkIn: number | undefined }[] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        if (typeof payload !== 'string' || !payload.includes('"event":"status"')) return;
        const envelope = JSON.parse(payload) as {
          data?: { nodes?: { id: string; counters: { in: number } }[] };
        };
        statuses.push({
          at: performance.now(),
          sinkIn: envelope.data?.nodes?.find((n) => n.id === 'c0-store')?.counters.in,
        });
      }),
    );

    await page.goto(url);
    await page.locator('.palette-item[data-type="mqtt-in"]').waitFor();
    await page.getByTestId('connection').getByText('Connected').waitFor();
    await page.evaluate(PAGE_HELPERS);

    // (a) open + fit
    await page.evaluate(`window.__bench.armOpen(${total})`);
    await openFromMenu(page, /editor-bench\.json/);
    const openFitMs = await bounded('open + fit', 30_000, page.evaluate<number>('window.__bench.opened'));
    const rendered = await page.locator('.react-flow__node').count();
    if (rendered === 0 || rendered > total) throw new Error(`${rendered} nodes rendered of ${total}`);
    log(`editor: open + fit of ${total} nodes: ${openFitMs.toFixed(0)} ms (${rendered} in view, mounted)`);
    await page.waitForTimeout(500);

    // (b) drag one node in a circle for ~1 s
    const title = await page.locator('.react-flow__node[data-id="c50-shape"] .flow-node-title').boundingBox();
    if (!title) throw new Error('c50-shape is not visible');
    const cx = title.x + title.width / 2;
    const cy = title.y + title.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.evaluate(
      `window.__bench.run = { on: true }; window.__bench.dragFrames = window.__bench.frames(window.__bench.run)`,
    );
    const dragStart = performance.now();
    let mouseMoves = 0;
    while (performance.now() - dragStart < DRAG_MS) {
      const angle = ((performance.now() - dragStart) / DRAG_MS) * 2 * Math.PI;
      await page.mouse.move(cx + 80 * Math.sin(angle) + 40, cy + 80 * (1 - Math.cos(angle)));
      mouseMoves++;
    }
    const dragSeconds = (performance.now() - dragStart) / 1000;
    const dragIntervals = await page.evaluate<number[]>('window.__bench.run.on = false; window.__bench.dragFrames');
    await page.mouse.up();
    const drag = { ...frameStats(dragIntervals), mouseMoves, seconds: dragSeconds };
    log(`editor: drag ${mouseMoves} moves in ${dragSeconds.toFixed(2)} s: ${JSON.stringify(drag)}`);

    // (c) deploy the flow (chain 0 carries the load) and watch the page for LOAD_SECONDS
    await page.getByRole('button', { name: 'Deploy' }).click();
    await page
      .getByTestId('notice')
      .getByText(/Deployed/)
      .waitFor({ timeout: 60_000 });
    // Let the simulator reach its rate before measuring.
    await page.waitForTimeout(2000);
    await page.evaluate(`
      window.__bench.load = { run: { on: true }, tasks: [] };
      window.__bench.load.observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__bench.load.tasks.push(e.duration);
      });
      window.__bench.load.observer.observe({ type: 'longtask' });
      window.__bench.load.frames = window.__bench.frames(window.__bench.load.run);
    `);
    const loadStart = performance.now();
    const firstStatus = statuses.length;
    await page.waitForTimeout(LOAD_SECONDS * 1000);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const inWindow = statuses.slice(firstStatus);
    const page_ = await page.evaluate<{ tasks: number[]; frames: number[] }>(`(() => {
      const l = window.__bench.load;
      l.run.on = false;
      l.observer.disconnect();
      return { tasks: l.tasks, frames: l.frames };
    })()`);
    const counted = inWindow.filter((s) => s.sinkIn !== undefined);
    const firstCount = counted[0];
    const lastCount = counted[counted.length - 1];
    const achievedMsgPerS =
      firstCount && lastCount && lastCount.at > firstCount.at
        ? Math.round((((lastCount.sinkIn ?? 0) - (firstCount.sinkIn ?? 0)) * 1000) / (lastCount.at - firstCount.at))
        : NaN;
    const load = {
      targetMsgPerS: (LOAD_DEVICES * 1000) / LOAD_INTERVAL_MS,
      achievedMsgPerS,
      seconds: loadSeconds,
      longTasks: page_.tasks.length,
      longestTaskMs: Math.max(0, ...page_.tasks),
      frames: frameStats(page_.frames),
      statusEvents: inWindow.length,
      statusEventsPerS: inWindow.length / loadSeconds,
    };
    log(`editor: under load: ${JSON.stringify(load)}`);
    await page
      .getByRole('button', { name: 'Stop' })
      .click()
      .catch(() => undefined);
    return { nodes: total, edges: flow.edges.length, openFitMs, drag, load, pageErrors };
  } finally {
    await context?.close().catch(() => undefined);
    await cli?.stop();
    tmp.cleanup();
  }
}
