import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumMissing } from '../helpers/chromium.js';
import { runCli } from '../helpers/cli.js';
import { useEditorFixture } from '../helpers/editorFixture.js';
import { repoRoot } from '../helpers/paths.js';

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
  const f = useEditorFixture('topicflow-e2e-', ARTIFACTS);

  it('builds a flow from an empty canvas, saves, deploys, shows live counters, reopens it', async () => {
    // A fresh context is a fresh profile: no storage carried between runs.
    const context = await f.browser.newContext({ viewport: { width: 1440, height: 860 }, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(f.url);
      await page.locator('.palette-item[data-type="mqtt-in"]').waitFor();
      await page.getByTestId('connection').getByText('Connected').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '1-empty.png') });

      // The palette's search filters the node types.
      await page.getByLabel('Search nodes').fill('sqlite');
      assert.equal(await page.locator('.palette-item').count(), 1);
      await page.getByLabel('Search nodes').fill('');

      await page.getByLabel('Flow name').fill('E2E temperatures');
      // The connections form, generated from the flow format's ConnectionSchema.
      const connections = page.getByTestId('connections');
      // A new flow has one connection, "broker"; add a second one and remove it again.
      await connections.getByRole('button', { name: 'Add connection' }).click();
      assert.equal(await connections.getByTestId('field-id').getByRole('textbox').inputValue(), 'broker-1');
      // A secret field takes references only: a literal is refused inline, as typed.
      const password = connections.getByTestId('field-password').locator('input');
      await password.fill('hunter2');
      await connections
        .getByTestId('field-error-password')
        .getByText(/reference only/)
        .waitFor();
      await connections.getByRole('button', { name: /Apply connections/ }).click();
      await connections.getByText(/A secret field holds a literal value/).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '11-connections-form.png') });
      await password.fill('${env:E2E_BROKER_PASSWORD}');
      await connections.getByTestId('field-error-password').waitFor({ state: 'detached' });
      await connections.getByRole('button', { name: 'Remove connection broker-1' }).click();
      await connections.getByTestId('connection-broker-1').waitFor({ state: 'detached' });
      assert.equal(await connections.getByTestId('field-id').getByRole('textbox').inputValue(), 'broker');
      await connections.getByTestId('field-url').getByRole('textbox').fill(f.broker.url);
      await connections.getByTestId('field-protocolVersion').getByRole('combobox').selectOption('5');
      await connections.getByRole('button', { name: /Apply connections/ }).click();
      await page.getByTestId('problems').getByText('valid').waitFor();
      // Any change clears "valid" and its notice: they speak of the document before it.
      await page.getByRole('button', { name: 'Validate' }).click();
      await page.getByTestId('notice').getByText('The flow is valid.').waitFor();

      // Drag from the palette (HTML5 drag and drop) onto the canvas.
      await page.dragAndDrop('.palette-item[data-type="mqtt-in"]', '.react-flow__pane', {
        targetPosition: { x: 200, y: 300 },
      });
      await page.dragAndDrop('.palette-item[data-type="sqlite-sink"]', '.react-flow__pane', {
        targetPosition: { x: 680, y: 300 },
      });
      await page.getByTestId('notice').waitFor({ state: 'detached' });
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
      // mqtt-in's connection is a choice of the flow's connection ids.
      await page.getByTestId('mode-form').click();
      const connectionChoice = page.getByTestId('field-connection').getByRole('combobox');
      assert.equal(await connectionChoice.inputValue(), '0');
      assert.deepEqual(await connectionChoice.locator('option').allTextContents(), ['broker']);

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

      // The first Save asks for a file name (Save As), checked as typed.
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const fileName = page.getByTestId('save-as-name');
      assert.equal(await fileName.inputValue(), 'e2e-temperatures.json');
      await fileName.fill('my flow!');
      await page
        .getByRole('dialog')
        .getByText(/Use only letters, digits/)
        .waitFor();
      assert.equal(await page.getByRole('dialog').getByRole('button', { name: 'Save' }).isDisabled(), true);
      await fileName.fill('e2e-temperatures');
      await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
      await page.getByTestId('notice').getByText('Saved e2e-temperatures.json.').waitFor();
      assert.equal(await page.getByTestId('dirty').textContent(), '');
      const saved = JSON.parse(readFileSync(join(f.dir, 'flows', 'e2e-temperatures.json'), 'utf8')) as {
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
      await f.cli.waitForLog('subscribed', { filter: 'e2e/+/temp' });
      for (const value of ['21.5', '22', '22.5']) {
        await f.publisher.publishAsync('e2e/kitchen/temp', value, { qos: 1 });
      }
      await page.getByTestId('badge-sqlite-sink-1').getByText('in 3').waitFor();
      await page.getByTestId('badge-mqtt-in-1').getByText('out 3').waitFor();
      await page.locator('.engine-state', { hasText: 'Running' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '3-running.png') });
      // The flow panel: each broker connection's live state, and what the deploy did.
      await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
      await page.getByTestId('broker-state-broker').getByText('connected').waitFor();
      assert.match((await page.getByTestId('last-deploy').textContent()) ?? '', /Added\s*2\s*mqtt-in-1, sqlite-sink-1/);

      // One message the number decoding refuses: a dead letter of mqtt-in-1.
      await f.publisher.publishAsync('e2e/kitchen/temp', 'not-a-number', { qos: 1 });

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
      await page.getByRole('button', { name: 'Open', exact: true }).click();
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
      await page.getByRole('button', { name: 'Open', exact: true }).click();
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
      await f.publisher.publishAsync('e2e/hall/temp', '19.25', { qos: 1 });
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
      const resaved = JSON.parse(readFileSync(join(f.dir, 'flows', 'e2e-temperatures.json'), 'utf8')) as {
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
  it('previews JSONata on a real message; Save As, Import, Export; palette keys; dark theme', async () => {
    const context = await f.browser.newContext({
      viewport: { width: 1440, height: 860 },
      colorScheme: 'dark',
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const flows = join(f.dir, 'flows');
    try {
      await page.goto(f.url);
      await page.locator('.palette-item[data-type="mqtt-in"]').waitFor();
      await page.getByTestId('connection').getByText('Connected').waitFor();

      // Palette by keyboard: type, arrows walk the list shown, Enter adds at the view's centre, Escape clears.
      const search = page.getByLabel('Search nodes');
      await search.fill('mqtt');
      await search.press('ArrowDown');
      await search.press('ArrowDown');
      const active = page.locator('.palette-item[aria-selected="true"]');
      assert.equal(await active.getAttribute('data-type'), 'mqtt-out');
      assert.equal(await search.getAttribute('aria-activedescendant'), await active.getAttribute('id'));
      await page.screenshot({ path: join(ARTIFACTS, '12-dark-palette-keys.png') });
      await search.press('Enter');
      await page.locator('.react-flow__node[data-id="mqtt-out-1"]').waitFor();
      await search.press('Escape');
      assert.equal(await search.inputValue(), '');
      assert.ok((await page.locator('.palette-item').count()) > 2);

      // Import an invalid file: it opens unsaved, its problems on the offending nodes.
      const invalid = {
        format: 'topicflow/flow@1',
        name: 'Broken import',
        connections: [],
        nodes: [
          { id: 'sim', type: 'simulator', config: { mode: 'emit' } },
          { id: 'shape', type: 'transform', config: { expression: '{ "a": }' } },
        ],
        edges: [{ id: 'e1', from: { node: 'sim', port: 'out' }, to: { node: 'shape', port: 'in' } }],
      };
      const importFile = async (name: string, document: unknown) => {
        const chooser = page.waitForEvent('filechooser');
        await page.getByRole('button', { name: 'Import…' }).click();
        await (
          await chooser
        ).setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(document)) });
      };
      page.once('dialog', (dialog) => void dialog.accept()); // discard the palette-added node
      await importFile('broken.json', invalid);
      await page.locator('.react-flow__node[data-id="shape"] .flow-node-problems').waitFor();
      await page.getByTestId('problems').getByText('/nodes/1/config/expression').waitFor();
      await page.getByTestId('dirty').getByText('unsaved').waitFor();
      await page.getByText('not saved yet').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '13-dark-import-invalid.png') });

      // A valid import (with a literal secret on a spare connection), then Save As, twice: the second asks to replace.
      const flow = {
        format: 'topicflow/flow@1',
        name: 'Preview flow',
        connections: [{ id: 'cloud', url: 'mqtt://127.0.0.1:9', password: 'hunter2' }],
        nodes: [
          { id: 'sim', type: 'simulator', config: { mode: 'emit', devices: 2, intervalMs: 100, seed: 3 } },
          { id: 'shape', type: 'transform', config: { expression: '{ "from": $topic }' } },
          { id: 'out', type: 'debug', config: {} },
        ],
        edges: [
          { id: 'e1', from: { node: 'sim', port: 'out' }, to: { node: 'shape', port: 'in' } },
          { id: 'e2', from: { node: 'shape', port: 'out' }, to: { node: 'out', port: 'in' } },
        ],
      };
      page.once('dialog', (dialog) => void dialog.accept());
      await importFile('preview.json', flow);
      await page.locator('.react-flow__node[data-id="out"]').waitFor();
      await page.keyboard.press('Control+Shift+S');
      await page.getByTestId('save-as-name').fill('preview-copy.json');
      await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
      await page
        .getByTestId('notice')
        .getByText(/^Saved preview-copy\.json, but the flow has problems\.$/)
        .waitFor();
      await page.getByRole('button', { name: 'Save as…' }).click();
      await page.getByTestId('save-as-name').fill('e2e-temperatures.json');
      await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
      await page
        .getByTestId('save-as-replace')
        .getByText(/already exists/)
        .waitFor();
      await page.getByTestId('save-as-name').fill('preview-flow.json');
      await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
      await page
        .getByTestId('notice')
        .getByText(/^Saved preview-flow\.json, but/)
        .waitFor();
      assert.equal(JSON.parse(readFileSync(join(flows, 'preview-flow.json'), 'utf8')).name, 'Preview flow');
      await page.keyboard.press('Control+Shift+S');
      await page.getByTestId('save-as-name').fill('preview-copy.json');
      await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Replace' }).click();
      await page
        .getByTestId('notice')
        .getByText(/^Saved preview-copy\.json, but the flow has problems\.$/)
        .waitFor();

      // Reopen: New (clean, no question), then Open (Ctrl+O) lists the workspace.
      await page.getByRole('button', { name: 'New' }).click();
      await page.locator('.react-flow__node').first().waitFor({ state: 'detached' });
      await page.keyboard.press('Control+O');
      await page.getByRole('menuitem', { name: /preview-flow\.json/ }).click();
      await page.locator('.react-flow__node[data-id="shape"]').waitFor();
      assert.equal(await page.getByLabel('Flow name').inputValue(), 'Preview flow');

      // Export for a gateway: the literal secret is refused, stripped on request; the env it needs is listed.
      await page.keyboard.press('Control+E');
      await page.getByTestId('export-secrets').getByText('/connections/0/password').waitFor();
      await page.getByLabel(/Strip them to environment references/).check();
      await page.getByTestId('export-env').getByText('TOPICFLOW_CLOUD_PASSWORD').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '14-dark-export.png') });
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: /^Export preview-flow\.json/ }).click();
      const exported = join(f.dir, 'exported.json');
      await (await download).saveAs(exported);
      await page.getByTestId('export-done').waitFor();
      await page.keyboard.press('Escape');
      const text = readFileSync(exported, 'utf8');
      assert.ok(!text.includes('hunter2'));
      assert.match(text, /\$\{env:TOPICFLOW_CLOUD_PASSWORD\}/);
      const validated = await runCli(['validate', exported], { TOPICFLOW_CLOUD_PASSWORD: 'x' });
      assert.equal(validated.code, 0, validated.stderr);

      // The literal secret is a problem of the flow too: remove that connection in the form, then deploy.
      await page.getByTestId('problems').getByText('/connections/0/password').waitFor();
      await page.getByRole('button', { name: 'Remove connection cloud' }).click();
      await page.getByRole('button', { name: /Apply connections/ }).click();
      await page.getByTestId('problems').getByText('valid').waitFor();

      // Live preview: deploy, then the transform's expression is evaluated on the last message it received.
      await page.getByRole('button', { name: 'Deploy' }).click();
      await page.getByTestId('last-deploy').getByText(/Added/).waitFor();
      assert.match((await page.getByTestId('last-deploy').textContent()) ?? '', /Added\s*3\s*sim, shape, out/);
      await page
        .getByTestId('badge-shape')
        .getByText(/in [1-9]/)
        .waitFor();
      await page.locator('.react-flow__node[data-id="shape"] .flow-node-title').click();
      await page.getByTestId('mode-form').click();
      const preview = page.getByTestId('preview-result-expression');
      await preview.getByText(/"from": "fleet\/[^"]+"/).waitFor();
      await page
        .getByTestId('preview-expression')
        .getByText(/the last message shape received \(fleet\//)
        .waitFor();
      // Typing re-evaluates (debounced); a syntax error shows inline with its position.
      const expression = page.getByTestId('field-expression').getByRole('textbox');
      await expression.fill('$uppercase($topic)');
      await preview.getByText(/"FLEET\//).waitFor();
      await expression.fill('{ "a": }');
      await preview.getByText(/S0211.*at character 8/).waitFor();
      await preview.locator('mark').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '15-dark-preview.png') });
      // An edited sample message: the preview follows it.
      await expression.fill('payload.t * 2');
      await page.getByTestId('preview-expression').getByText('Message', { exact: true }).click();
      await page.getByTestId('preview-sample-expression').fill('{"topic": "x", "payload": {"payload": {"t": 21}}}');
      await preview.getByText(/^42$/).waitFor();

      await page.getByRole('button', { name: 'Stop' }).click();
      await page.locator('.engine-state', { hasText: 'Stopped' }).waitFor();
      await page.emulateMedia({ colorScheme: 'light' });
      await page
        .getByRole('button', { name: "Close the node's config" })
        .click()
        .catch(() => undefined);
      await page.screenshot({ path: join(ARTIFACTS, '16-light-preview.png') });
      assert.deepEqual(pageErrors, []);
    } catch (error) {
      await page.screenshot({ path: join(ARTIFACTS, 'failure-2.png') }).catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
