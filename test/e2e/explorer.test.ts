import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { IPublishPacket } from 'mqtt';
import type { Page } from 'playwright-core';
import { chromiumMissing } from '../helpers/chromium.js';
import { testClient } from '../helpers/engineHarness.js';
import { useEditorFixture } from '../helpers/editorFixture.js';
import { repoRoot } from '../helpers/paths.js';
import { waitFor } from '../helpers/waitFor.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts', 'explorer');
const skip = chromiumMissing ?? false;

const AREAS = 4;
const DEVICES = 30;
const RETAINED = 12;

/** Messages per device topic: 1 to 3, so counts differ between topics and folders. */
const perDevice = (d: number) => 1 + (d % 3);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** The exact count a tree row shows (its data attribute; the cell itself is compact: 1.2k). */
async function rowCount(page: Page, topic: string): Promise<number> {
  return Number(await page.locator(`.ex-row[data-topic="${topic}"]`).getAttribute('data-count'));
}

describe('the topic explorer in Chromium against topicflow serve and Mosquitto', { skip, timeout: 120_000 }, () => {
  const f = useEditorFixture('topicflow-explorer-e2e-', ARTIFACTS);

  it('watches a broker, counts exactly, shows history and diff, publishes, clears retained, builds a flow', async () => {
    const context = await f.browser.newContext({ viewport: { width: 1440, height: 860 }, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(f.url);
      await page.getByTestId('view-explorer').click();
      await page.getByTestId('explorer-client').getByText('Connected').waitFor();

      // Add the broker in the form: a literal password is refused inline, a reference is taken.
      await page.getByRole('button', { name: 'Add a broker' }).click();
      await page.getByTestId('conn-id').fill('mosquitto');
      await page.getByTestId('conn-url').fill(f.broker.url);
      await page.getByTestId('conn-username').fill('reader');
      await page.getByTestId('conn-password').fill('hunter2');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page
        .getByRole('alert')
        .getByText(/must be a reference such as/)
        .waitFor();
      await shot(page, '1-connection-form');
      await page.getByTestId('conn-username').fill('');
      await page.getByTestId('conn-password').fill('');
      await page.getByTestId('conn-filters').fill('plant/#\nretained/#\ne2e/#');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await page.getByTestId('explorer-connection').getByText('connected', { exact: true }).waitFor();

      // Publish to many topics (QoS 1, so every message arrives) and some retained values.
      const published = new Map<string, number>();
      for (let a = 0; a < AREAS; a++) {
        for (let d = 0; d < DEVICES; d++) {
          const topic = `plant/area${a}/dev${d}/temp`;
          for (let k = 0; k < perDevice(d); k++) {
            const payload = JSON.stringify({ t: 20 + k + d / 10, unit: 'C', seq: k, ...(k > 0 ? { fw: 2 } : {}) });
            await f.publisher.publishAsync(topic, payload, { qos: 1 });
          }
          published.set(topic, perDevice(d));
        }
      }
      for (let i = 0; i < RETAINED; i++) {
        await f.publisher.publishAsync(`retained/r${i}/state`, `on-${i}`, { qos: 1, retain: true });
      }
      const total = [...published.values()].reduce((s, n) => s + n, 0) + RETAINED;
      const topics = published.size + RETAINED;

      const summary = page.getByTestId('tree-summary');
      await waitFor(
        `the tree to count ${total} messages on ${topics} topics`,
        async () =>
          Number(await summary.getAttribute('data-count')) === total &&
          Number(await summary.getAttribute('data-topics')) === topics,
        10_000,
      );
      // Folder counts equal the sums of what was published under them.
      await page.locator('.ex-row[data-topic="plant"] .ex-chevron').click();
      for (let a = 0; a < AREAS; a++) {
        const expected = [...published].filter(([t]) => t.startsWith(`plant/area${a}/`)).reduce((s, [, n]) => s + n, 0);
        assert.equal(await rowCount(page, `plant/area${a}`), expected, `plant/area${a}`);
      }
      assert.equal(await rowCount(page, 'plant'), total - RETAINED);
      assert.equal(await rowCount(page, 'retained'), RETAINED);
      await shot(page, '2-tree');

      // Search: matches and their ancestors only, auto-expanded.
      await page.getByLabel('Filter topics').fill('dev17/');
      await waitFor('the search to apply', async () => (await summary.getAttribute('data-matches')) === String(AREAS));
      const shown = await page.locator('.ex-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-topic')));
      assert.deepEqual(shown, [
        'plant',
        ...Array.from({ length: AREAS }, (_, a) => [
          `plant/area${a}`,
          `plant/area${a}/dev17`,
          `plant/area${a}/dev17/temp`,
        ]).flat(),
      ]);
      await shot(page, '3-search');

      // A topic's history (3 messages) and the diff against the previous one.
      await page.locator('.ex-row[data-topic="plant/area1/dev17/temp"]').click();
      await waitFor('3 history rows', async () => (await page.getByTestId('history-row').count()) === 3);
      await page.getByTestId('json-tree').getByText('unit:').waitFor();
      assert.equal(await page.getByTestId('topic-count').textContent(), '3 msgs');
      await page.getByRole('tab', { name: 'Diff' }).click();
      const diff = page.getByTestId('json-diff');
      await diff.locator('tr.diff-changed', { hasText: 't' }).first().waitFor();
      assert.match((await diff.textContent()) ?? '', /seq.*1.*→.*2/);
      // The oldest message against nothing before it: no diff; the second added `fw`.
      await page.getByTestId('history-row').nth(1).click();
      await page.getByRole('tab', { name: 'Diff' }).click();
      await diff.locator('tr.diff-added', { hasText: 'fw' }).waitFor();
      await shot(page, '4-history-diff');
      await page.getByRole('tab', { name: 'Hex' }).click();
      await page
        .getByTestId('payload-hex')
        .getByText(/^00000000 {2}7b 22/)
        .waitFor();

      // A chart of a JSON field: backfilled from the history (3 points), in uPlot.
      await page.getByRole('button', { name: 't', exact: true }).click();
      await page.getByTestId('chart').locator('.ex-chart-host[data-points="3"] .uplot canvas').waitFor();
      await page.getByTestId('chart').locator('.u-legend').getByText('plant/area1/dev17/temp · t').waitFor();
      await shot(page, '4b-chart');
      await page.getByRole('tab', { name: 'Topic' }).click();
      await page.getByLabel('Filter topics').fill('');

      // Record a subtree, then export what was recorded as JSON Lines (a browser download).
      await page.locator('.ex-row[data-topic="plant/area3"]').click();
      await page.getByRole('button', { name: 'Record', exact: true }).click();
      await page
        .getByTestId('recording')
        .getByText(/recording plant\/area3\/#/)
        .waitFor();
      for (let k = 0; k < 3; k++) {
        await f.publisher.publishAsync('plant/area3/dev0/temp', JSON.stringify({ t: 22, unit: 'C', seq: k }), {
          qos: 1,
        });
      }
      await page
        .getByTestId('recording')
        .getByText(/· 3 rows ·/)
        .waitFor();
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'JSON Lines' }).click();
      const file = await (await download).path();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, 3);
      assert.equal((JSON.parse(lines[0] as string) as { topic: string }).topic, 'plant/area3/dev0/temp');
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      await page
        .getByTestId('recording')
        .getByText(/stopped/)
        .waitFor();
      await shot(page, '4c-recording');

      // Publish from the panel; a separate subscriber receives it with its properties.
      const subscriber = await testClient(f.broker.url);
      const received: IPublishPacket[] = [];
      subscriber.on('message', (_topic, _payload, packet) => received.push(packet));
      await subscriber.subscribeAsync('e2e/cmd/#', { qos: 1 });
      await page.getByRole('tab', { name: 'Publish' }).click();
      await page.getByTestId('publish-topic').fill('e2e/cmd/set');
      await page.getByTestId('publish-payload').fill('{"on": tru');
      await page.getByTestId('json-error').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Publish', exact: true }).isDisabled(), true);
      await page.getByTestId('publish-payload').fill('{"on": true, "level": 3}');
      await page.getByRole('radiogroup', { name: 'Payload format' }).waitFor();
      await page.getByText('MQTT 5 properties').click();
      await page.getByLabel('Content type').fill('application/json');
      await page.getByLabel('User properties, key=value per line').fill('origin=e2e');
      await page.getByLabel('QoS').selectOption('1');
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await waitFor('the subscriber to receive the publish', () => received.length === 1);
      const packet = received[0] as IPublishPacket;
      assert.equal(packet.topic, 'e2e/cmd/set');
      assert.deepEqual(JSON.parse(packet.payload.toString()), { on: true, level: 3 });
      assert.equal(packet.qos, 1);
      assert.equal(packet.properties?.contentType, 'application/json');
      assert.deepEqual({ ...packet.properties?.userProperties }, { origin: 'e2e' });
      await page.getByTestId('recent-publishes').getByText('e2e/cmd/set').waitFor();
      await shot(page, '5-publish');
      await subscriber.endAsync();

      // Clear a retained subtree after a confirmation that says how many topics.
      await page.getByRole('tab', { name: 'Topic' }).click();
      await page.locator('.ex-row[data-topic="retained"]').click();
      await page.getByRole('button', { name: 'Clear retained subtree…' }).click();
      await page.getByTestId('retained-count').getByText(`${RETAINED} topics hold a retained message`).waitFor();
      await shot(page, '6-clear-retained');
      await page.getByRole('button', { name: `Clear ${RETAINED} retained` }).click();
      await page.getByTestId('explorer-notice').getByText(`Cleared ${RETAINED} retained messages.`).waitFor();
      const fresh = await testClient(f.broker.url);
      const retainedNow: string[] = [];
      fresh.on('message', (topic, payload, p) => {
        if (p.retain) retainedNow.push(`${topic}=${payload.toString()}`);
      });
      await fresh.subscribeAsync('retained/#', { qos: 1 });
      // Retained messages come right after the SUBACK; a round trip on the same socket is after them.
      await fresh.publishAsync('e2e/ping', 'x', { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(retainedNow, []);
      await fresh.endAsync();

      // From topic to flow: infer, create on the canvas, deploy; new messages land in SQLite
      // (within the inferred ranges: t was seen from 20 to 24.9, seq from 0 to 2).
      await page.locator('.ex-row[data-topic="plant/area2"]').click();
      await page.getByRole('button', { name: 'Create flow for subtree' }).click();
      await page.getByTestId('inferred-schema').getByText('"t"').waitFor();
      await shot(page, '7-flow-dialog');
      await page.getByTestId('create-flow').click();
      await page.locator('.react-flow__node').nth(2).waitFor();
      assert.equal(await page.locator('.react-flow__node').count(), 3);
      assert.equal(await page.locator('.react-flow__edge').count(), 2);
      await shot(page, '8-flow-created');
      await page.getByRole('button', { name: 'Deploy', exact: true }).click();
      await page
        .getByTestId('notice')
        .getByText(/Deployed: 3 added/)
        .waitFor();
      await f.cli.waitForLog('subscribed', { filter: 'plant/area2/#' });
      for (let d = 0; d < 5; d++) {
        await f.publisher.publishAsync(
          `plant/area2/dev${d}/temp`,
          JSON.stringify({ t: 21 + d / 10, unit: 'C', seq: 1 }),
          {
            qos: 1,
          },
        );
      }
      const db = join(f.dir, 'data', 'topicflow.db');
      const rows = await waitFor(
        '5 rows in plant_area2',
        () => {
          const sqlite = new Database(db, { readonly: true, fileMustExist: true });
          try {
            const found = sqlite
              .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'plant_area2'")
              .get();
            if (!found) return undefined;
            const all = sqlite.prepare('SELECT topic, t, unit FROM plant_area2 ORDER BY id').all() as {
              topic: string;
              t: number;
              unit: string;
            }[];
            return all.length >= 5 ? all : undefined;
          } finally {
            sqlite.close();
          }
        },
        10_000,
      );
      assert.deepEqual(
        rows.map((r) => [r.topic, r.t, r.unit]),
        [0, 1, 2, 3, 4].map((d) => [`plant/area2/dev${d}/temp`, 21 + d / 10, 'C']),
      );

      // Back in the explorer, in the dark: the tree is still there (kept across views).
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.getByTestId('view-explorer').click();
      await page.locator('.ex-row[data-topic="plant/area2"]').click();
      await shot(page, '9-dark');

      // A received message's MQTT 5 properties, user properties included.
      await f.publisher.publishAsync('e2e/props', '{"a":1}', {
        qos: 1,
        properties: { contentType: 'application/json', userProperties: { site: 'lab' } },
      });
      await page.locator('.ex-row[data-topic="e2e"] .ex-chevron').click();
      await page.locator('.ex-row[data-topic="e2e/props"]').click();
      const properties = page.getByTestId('properties');
      await properties.getByText('application/json').waitFor();
      assert.match((await properties.textContent()) ?? '', /user\s*site\s*lab/);
      await shot(page, '10-properties');

      // Disable (the entry stays, disconnected), enable again, then remove the f.broker.
      const entry = page.getByTestId('explorer-connection');
      await page.getByRole('button', { name: 'Disable mosquitto' }).click();
      await entry.getByText('disabled', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Enable mosquitto' }).click();
      await entry.getByText('connected', { exact: true }).waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Remove mosquitto' }).click();
      await entry.waitFor({ state: 'detached' });
      await page.getByText('No broker yet. Add one with +.').waitFor();
      assert.deepEqual(pageErrors, []);
    } catch (error) {
      await shot(page, 'failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
