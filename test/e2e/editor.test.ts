import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH, chromiumMissing } from '../helpers/chromium.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { testClient } from '../helpers/engineHarness.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts', 'editor');
const skip = chromiumMissing ?? false;

/** Drags from the centre of one element to the centre of another with real mouse events. */
async function dragBetween(page: Page, fromSelector: string, toSelector: string): Promise<void> {
  const from = await page.locator(fromSelector).boundingBox();
  const to = await page.locator(toSelector).boundingBox();
  assert.ok(from && to, `${fromSelector} and ${toSelector} must be visible`);
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
  await page.mouse.up();
}

async function applyConfig(page: Page, nodeId: string, config: unknown): Promise<void> {
  await page.locator(`.react-flow__node[data-id="${nodeId}"] .flow-node-title`).click();
  await page.getByText(nodeId, { exact: true }).waitFor();
  await page.getByTestId('mode-json').click();
  await page.getByTestId('config-json').fill(JSON.stringify(config, null, 2));
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
}

describe('the editor in Chromium against topicflow serve', { skip, timeout: 120_000 }, () => {
  const tmp = tempDir('topicflow-e2e-');
  let broker: Mosquitto | undefined;
  let publisher: MqttClient | undefined;
  let cli: RunningCli | undefined;
  let browser: Browser | undefined;
  let url = '';

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    broker = await startMosquitto();
    publisher = await testClient(broker.url);
    const workspace = join(tmp.path, 'flows');
    mkdirSync(workspace);
    cli = startCli(['serve', '--workspace', workspace, '--data-dir', join(tmp.path, 'data'), '--port', '0']);
    url = String((await cli.waitForLog('serve listening'))['url']);
    browser = await chromium.launch({
      ...CHROMIUM_LAUNCH,
    });
  });

  after(async () => {
    await browser?.close();
    await cli?.stop();
    await publisher?.endAsync();
    await broker?.stop();
    tmp.cleanup();
  });

  it('builds a flow from an empty canvas, saves, deploys, shows live counters, reopens it', async () => {
    assert.ok(browser && broker && publisher && cli);
    // A fresh context is a fresh profile: no storage carried between runs.
    const context = await browser.newContext({ viewport: { width: 1440, height: 860 }, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(url);
      await page.locator('.palette-item[data-type="mqtt-in"]').waitFor();
      await page.getByTestId('connection').getByText('Connected').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '1-empty.png') });

      // The palette's search filters the node types.
      await page.getByLabel('Search nodes').fill('sqlite');
      assert.equal(await page.locator('.palette-item').count(), 1);
      await page.getByLabel('Search nodes').fill('');

      await page.getByLabel('Flow name').fill('E2E temperatures');
      await page
        .getByTestId('connections-json')
        .fill(JSON.stringify([{ id: 'broker', url: broker.url, protocolVersion: 5 }], null, 2));
      await page.getByRole('button', { name: 'Apply connections' }).click();
      await page.getByTestId('problems').getByText('valid').waitFor();

      // Drag from the palette (HTML5 drag and drop) onto the canvas.
      await page.dragAndDrop('.palette-item[data-type="mqtt-in"]', '.react-flow__pane', {
        targetPosition: { x: 200, y: 300 },
      });
      await page.dragAndDrop('.palette-item[data-type="sqlite-sink"]', '.react-flow__pane', {
        targetPosition: { x: 680, y: 300 },
      });
      await page.locator('.react-flow__node').nth(1).waitFor();
      assert.deepEqual(
        await page.locator('.react-flow__node').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-id'))),
        ['mqtt-in-1', 'sqlite-sink-1'],
      );
      await page.getByTestId('dirty').getByText('unsaved').waitFor();

      await dragBetween(
        page,
        '.react-flow__node[data-id="mqtt-in-1"] .react-flow__handle.source',
        '.react-flow__node[data-id="sqlite-sink-1"] .react-flow__handle.target',
      );
      // 'attached': a level edge's <g> has zero height, which Playwright calls hidden.
      await page.locator('.react-flow__edge').waitFor({ state: 'attached' });
      // A second identical edge is refused.
      await dragBetween(
        page,
        '.react-flow__node[data-id="mqtt-in-1"] .react-flow__handle.source',
        '.react-flow__node[data-id="sqlite-sink-1"] .react-flow__handle.target',
      );
      assert.equal(await page.locator('.react-flow__edge').count(), 1);

      // A broken config shows its problem with the JSON pointer, next to the node and in the list.
      await applyConfig(page, 'sqlite-sink-1', { table: 'not a table!' });
      await page.getByTestId('problems').getByText('/nodes/1/config/table').waitFor();
      await page.locator('.react-flow__node[data-id="sqlite-sink-1"] .flow-node-problems').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '2-problems.png') });

      await applyConfig(page, 'sqlite-sink-1', {
        table: 'temps',
        mode: 'row',
        includePayload: false,
        columns: [{ name: 'value', path: 'payload', type: 'real' }],
      });
      await applyConfig(page, 'mqtt-in-1', {
        connection: 'broker',
        topic: 'e2e/{device}/temp',
        qos: 1,
        decoding: 'number',
      });
      await page.getByTestId('problems').getByText('valid').waitFor();

      // The form generated from the schema: a bad table name shows its problem under the field.
      await page.locator('.react-flow__node[data-id="sqlite-sink-1"] .flow-node-title').click();
      await page.getByTestId('mode-form').click();
      const table = page.getByTestId('field-table').getByRole('textbox');
      assert.equal(await table.inputValue(), 'temps');
      await table.fill('temp readings');
      await page.getByRole('button', { name: 'Apply', exact: true }).click();
      await page
        .getByTestId('field-error-table')
        .getByText(/pattern/)
        .waitFor();
      await page.getByTestId('problems').getByText('/nodes/1/config/table').waitFor();
      await page.getByTestId('field-table').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, '9-form.png') });
      await table.fill('temps');
      await page.getByRole('button', { name: 'Apply', exact: true }).click();
      await page.getByTestId('problems').getByText('valid').waitFor();
      await page.getByTestId('field-error-table').waitFor({ state: 'detached' });

      page.once('dialog', (dialog) => void dialog.accept('e2e-temperatures.json'));
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByTestId('notice').getByText('Saved e2e-temperatures.json.').waitFor();
      assert.equal(await page.getByTestId('dirty').textContent(), '');
      const saved = JSON.parse(readFileSync(join(tmp.path, 'flows', 'e2e-temperatures.json'), 'utf8')) as {
        name: string;
        nodes: unknown[];
        edges: unknown[];
        layout: { nodes: Record<string, unknown> };
      };
      assert.equal(saved.name, 'E2E temperatures');
      assert.equal(saved.nodes.length, 2);
      assert.equal(saved.edges.length, 1);
      assert.deepEqual(Object.keys(saved.layout.nodes).sort(), ['mqtt-in-1', 'sqlite-sink-1']);

      await page.getByRole('button', { name: 'Deploy' }).click();
      await page
        .getByTestId('notice')
        .getByText(/Deployed: 2 added, 0 changed, 0 removed/)
        .waitFor();
      await cli.waitForLog('subscribed', { filter: 'e2e/+/temp' });
      for (const value of ['21.5', '22', '22.5']) {
        await publisher.publishAsync('e2e/kitchen/temp', value, { qos: 1 });
      }
      await page.getByTestId('badge-sqlite-sink-1').getByText('in 3').waitFor();
      await page.getByTestId('badge-mqtt-in-1').getByText('out 3').waitFor();
      await page.locator('.engine-state', { hasText: 'Running' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '3-running.png') });

      // One message the number decoding refuses: a dead letter of mqtt-in-1.
      await publisher.publishAsync('e2e/kitchen/temp', 'not-a-number', { qos: 1 });

      // The Store tab: the table and its rows, paged.
      await page.getByRole('tab', { name: 'Store' }).click();
      await page.getByRole('button', { name: /^temps\s*3$/ }).waitFor();
      await page.getByTestId('store-range').getByText('temps: rows 1–3 of 3').waitFor();
      assert.deepEqual(
        await page
          .getByTestId('store-grid')
          .locator('tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.lastElementChild?.textContent)),
        ['21.5', '22', '22.5'],
      );
      await page.screenshot({ path: join(ARTIFACTS, '5-store.png') });

      // The Dead letters tab: the refused message, with its reason; replay it (it is refused again).
      await page.getByRole('tab', { name: 'Dead letters' }).click();
      const letters = page.getByTestId('dead-letters');
      for (let i = 0; !(await letters.getByText('not-a-number', { exact: true }).first().isVisible()); i++) {
        assert.ok(i < 50, 'the dead letter never appeared');
        await page.waitForTimeout(200);
        await page.getByRole('button', { name: 'Refresh' }).click();
      }
      assert.equal(await letters.locator('tbody tr').count(), 1);
      assert.match((await letters.locator('tbody tr').first().textContent()) ?? '', /mqtt-in-1.*e2e\/kitchen\/temp/);
      await page.getByLabel(/Select dead letter \d+/).check();
      await page.getByRole('button', { name: 'Replay selected' }).click();
      await page.getByTestId('letters-message').getByText('Replayed 1 dead letter.').waitFor();
      // Replayed through the broker, refused again: a second dead letter, the first marked replayed.
      for (let i = 0; (await letters.locator('tbody tr').count()) < 2; i++) {
        assert.ok(i < 50, 'the replayed message never came back as a dead letter');
        await page.waitForTimeout(200);
        await page.getByRole('button', { name: 'Refresh' }).click();
      }
      assert.match((await letters.locator('tbody tr').nth(1).locator('td').last().textContent()) ?? '', /\d\d:\d\d/);
      await page.screenshot({ path: join(ARTIFACTS, '6-dead-letters.png') });

      // Reload: a new editor session; the saved file reopens with its layout.
      await page.reload();
      await page.locator('.palette-item[data-type="mqtt-in"]').waitFor();
      await page.getByRole('button', { name: 'Open ▾' }).click();
      await page.getByRole('menuitem', { name: /e2e-temperatures\.json/ }).click();
      await page.locator('.react-flow__node[data-id="sqlite-sink-1"]').waitFor();
      assert.equal(await page.getByLabel('Flow name').inputValue(), 'E2E temperatures');
      assert.equal(await page.locator('.react-flow__edge').count(), 1);
      // Still running: the badges come back from the status events.
      await page.getByTestId('badge-sqlite-sink-1').getByText('in 3').waitFor();

      // Delete removes the selected node and its edge, and marks the flow dirty.
      await page.locator('.react-flow__node[data-id="sqlite-sink-1"] .flow-node-title').click();
      await page.keyboard.press('Delete');
      await page.getByTestId('dirty').getByText('unsaved').waitFor();
      assert.equal(await page.locator('.react-flow__node').count(), 1);
      assert.equal(await page.locator('.react-flow__edge').count(), 0);

      await page.emulateMedia({ colorScheme: 'dark' });
      await page.getByRole('button', { name: 'Open ▾' }).click();
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('menuitem', { name: /e2e-temperatures\.json/ }).click();
      await page.locator('.react-flow__node[data-id="sqlite-sink-1"]').waitFor();
      await page.locator('.react-flow__node[data-id="mqtt-in-1"] .flow-node-title').click();
      await page.screenshot({ path: join(ARTIFACTS, '4-dark-inspector.png') });

      // A debug node: its messages reach the Debug tab.
      await page.dragAndDrop('.palette-item[data-type="debug"]', '.react-flow__pane', {
        targetPosition: { x: 440, y: 120 },
      });
      await page.locator('.react-flow__node[data-id="debug-1"]').waitFor();
      await dragBetween(
        page,
        '.react-flow__node[data-id="mqtt-in-1"] .react-flow__handle.source',
        '.react-flow__node[data-id="debug-1"] .react-flow__handle.target',
      );
      assert.equal(await page.locator('.react-flow__edge').count(), 2);
      await page.getByRole('button', { name: 'Deploy' }).click();
      await page
        .getByTestId('notice')
        .getByText(/Deployed: 1 added/)
        .waitFor();
      await page.getByRole('tab', { name: 'Debug' }).click();
      await publisher.publishAsync('e2e/hall/temp', '19.25', { qos: 1 });
      await page.getByTestId('debug-row').filter({ hasText: 'e2e/hall/temp' }).waitFor();
      assert.match((await page.getByTestId('debug-row').first().textContent()) ?? '', /debug-1.*19\.25/);
      await page.screenshot({ path: join(ARTIFACTS, '7-dark-debug.png') });

      await page.getByRole('button', { name: 'Stop' }).click();
      await page.locator('.engine-state', { hasText: 'Stopped' }).waitFor();

      // Copy/paste and undo/redo on the keyboard (the in-memory clipboard when the system one is refused).
      const debug2 = page.locator('.react-flow__node[data-id="debug-2"]');
      await page.locator('.react-flow__node[data-id="debug-1"] .flow-node-title').click();
      await page.keyboard.press('Control+C');
      await page.getByTestId('notice').getByText('Copied 1 node.').waitFor();
      await page.keyboard.press('Control+V');
      await debug2.waitFor({ timeout: 5_000 });
      assert.equal(await page.locator('.react-flow__node').count(), 4);
      await page.keyboard.press('Control+Z');
      await debug2.waitFor({ state: 'detached', timeout: 5_000 });
      await page.keyboard.press('Control+Shift+Z');
      await debug2.waitFor({ timeout: 5_000 });
      // The toolbar's Undo and Ctrl+Y do the same.
      assert.equal(await page.getByRole('button', { name: 'Redo' }).isDisabled(), true);
      await page.getByRole('button', { name: 'Undo' }).click();
      await debug2.waitFor({ state: 'detached', timeout: 5_000 });
      await page.keyboard.press('Control+Y');
      await debug2.waitFor({ timeout: 5_000 });
      // Ctrl+S saves to the open file; undoing past the save makes the flow dirty again, redo clean.
      await page.getByTestId('dirty').getByText('unsaved').waitFor({ timeout: 5_000 });
      await page.keyboard.press('Control+S');
      await page.getByTestId('notice').getByText('Saved e2e-temperatures.json.').waitFor({ timeout: 5_000 });
      assert.equal(await page.getByTestId('dirty').textContent(), '');
      const resaved = JSON.parse(readFileSync(join(tmp.path, 'flows', 'e2e-temperatures.json'), 'utf8')) as {
        nodes: { id: string }[];
      };
      assert.deepEqual(resaved.nodes.map((n) => n.id).sort(), ['debug-1', 'debug-2', 'mqtt-in-1', 'sqlite-sink-1']);
      await page.keyboard.press('Control+Z');
      await page.getByTestId('dirty').getByText('unsaved').waitFor({ timeout: 5_000 });
      await page.keyboard.press('Control+Y');
      await debug2.waitFor({ timeout: 5_000 });
      assert.equal(await page.getByTestId('dirty').textContent(), '');
      // A drag is one undo step: undoing it puts the node back and the flow is clean again.
      const transform = async () => /translate\([^)]*\)/.exec((await debug2.getAttribute('style')) ?? '')?.[0];
      const placed = await transform();
      assert.ok(placed);
      const title = await debug2.locator('.flow-node-title').boundingBox();
      assert.ok(title);
      await page.mouse.move(title.x + 10, title.y + 5);
      await page.mouse.down();
      await page.mouse.move(title.x + 130, title.y + 85, { steps: 8 });
      await page.mouse.up();
      await page.getByTestId('dirty').getByText('unsaved').waitFor({ timeout: 5_000 });
      assert.notEqual(await transform(), placed);
      await page.keyboard.press('Control+Z');
      await page.getByTestId('dirty').getByText('unsaved').waitFor({ state: 'detached', timeout: 5_000 });
      assert.equal(await transform(), placed);
      await page.screenshot({ path: join(ARTIFACTS, '8-paste-undo.png') });

      // Layout (elkjs): left to right, no overlaps, one undo step that puts every node back.
      const layoutOf = () =>
        page.locator('.react-flow__node').evaluateAll((nodes) =>
          nodes.map((n) => {
            const r = n.getBoundingClientRect();
            const t = /translate\([^)]*\)/.exec(n.getAttribute('style') ?? '')?.[0];
            return { id: n.getAttribute('data-id'), t, x: r.x, y: r.y, w: r.width, h: r.height };
          }),
        );
      const unlaid = await layoutOf();
      await page.getByRole('button', { name: 'Layout' }).click();
      await page.getByTestId('dirty').getByText('unsaved').waitFor({ timeout: 5_000 });
      const laid = await layoutOf();
      assert.notDeepEqual(
        laid.map((n) => n.t),
        unlaid.map((n) => n.t),
      );
      for (const a of laid) {
        for (const b of laid) {
          if (a === b) continue;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          assert.ok(!overlap, `${a.id} overlaps ${b.id}: ${JSON.stringify(laid)}`);
        }
      }
      const laidX = (id: string) => laid.find((n) => n.id === id)?.x ?? NaN;
      assert.ok(laidX('mqtt-in-1') < laidX('sqlite-sink-1') && laidX('mqtt-in-1') < laidX('debug-1'));
      await page.screenshot({ path: join(ARTIFACTS, '10-layout.png') });
      await page.getByRole('button', { name: 'Undo' }).click();
      await page.getByTestId('dirty').getByText('unsaved').waitFor({ state: 'detached', timeout: 5_000 });
      assert.deepEqual(
        (await layoutOf()).map((n) => n.t),
        unlaid.map((n) => n.t),
      );
      // Ctrl+Shift+L does the same.
      await page.keyboard.press('Control+Shift+L');
      await page.getByTestId('dirty').getByText('unsaved').waitFor({ timeout: 5_000 });
      assert.deepEqual(
        (await layoutOf()).map((n) => n.t),
        laid.map((n) => n.t),
      );
      assert.deepEqual(pageErrors, []);
    } catch (error) {
      await page.screenshot({ path: join(ARTIFACTS, 'failure.png') }).catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
