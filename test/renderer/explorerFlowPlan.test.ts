import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InferredSchema } from '../../shared/protocol/explorerProtocol.js';
import { draftFromConfig, draftToConfig, emptyDraft } from '../../renderer/explorer/model/connectionDraft.js';
import { buildFlowPlan, filterFor, planConnection, tableNameFor } from '../../renderer/explorer/model/flowPlan.js';

const inferred: InferredSchema = {
  schema: {
    type: 'object',
    required: ['temp'],
    properties: {
      temp: { type: 'number' },
      id: { type: 'string' },
      count: { type: 'integer' },
      tags: { type: 'array' },
    },
  },
  samples: 5,
  skipped: 0,
  topics: ['home/kitchen/temp'],
  decode: 'json',
};

describe('explorer connection form', () => {
  it('builds a flow connection with filters from a valid draft', () => {
    const draft = {
      ...emptyDraft(),
      id: 'plant',
      url: 'mqtts://broker.example:8883',
      protocolVersion: 4 as const,
      username: 'reader',
      password: '${env:PLANT_PASSWORD}',
      ca: '/etc/ssl/ca.pem',
      filters: 'plant/#\n\n  site/+/temp ',
    };
    const { config, errors } = draftToConfig(draft);
    assert.deepEqual(errors, {});
    assert.deepEqual(config, {
      connection: {
        id: 'plant',
        url: 'mqtts://broker.example:8883',
        protocolVersion: 4,
        username: 'reader',
        password: '${env:PLANT_PASSWORD}',
        tls: { ca: '/etc/ssl/ca.pem' },
      },
      filters: ['plant/#', 'site/+/temp'],
      enabled: true,
    });
    assert.deepEqual(draftToConfig(draftFromConfig(config!)).config, config);
  });

  it('refuses a literal password or passphrase, naming the field, and bad filters and ids', () => {
    const { config, errors } = draftToConfig({
      ...emptyDraft(),
      id: 'bad id',
      username: 'u',
      password: 'hunter2',
      passphrase: '${env:X:-literal}',
      filters: 'a/#/b',
    });
    assert.equal(config, undefined);
    assert.match(errors.password ?? '', /reference such as \$\{env:MQTT_PASSWORD\}/);
    assert.ok(!(errors.password ?? '').includes('hunter2'), 'the error never repeats the secret');
    assert.match(errors.passphrase ?? '', /reference/);
    assert.match(errors.filters ?? '', /"#" must be the last level/);
    assert.match(errors.id ?? '', /letters, digits/);
    assert.match(draftToConfig({ ...emptyDraft(), filters: '{device}/#' }).errors.filters ?? '', /named wildcards/);
    assert.match(draftToConfig({ ...emptyDraft(), url: 'http://x' }).errors.url ?? '', /mqtt:\/\//);
    assert.match(draftToConfig({ ...emptyDraft(), id: 'a' }, ['a']).errors.id ?? '', /exists already/);
    const embedded = draftToConfig({ ...emptyDraft(), mode: 'embedded', embeddedPort: '0' });
    assert.deepEqual(embedded.config?.connection.embedded, { port: 0 });
    assert.equal(embedded.config?.connection.url, undefined);
  });
});

describe('explorer: from topic to flow', () => {
  it('derives filters and table names', () => {
    assert.equal(filterFor('home/kitchen', true), 'home/kitchen/#');
    assert.equal(filterFor('home/kitchen/temp', false), 'home/kitchen/temp');
    assert.equal(filterFor('', true), '#');
    assert.equal(tableNameFor('home/kitchen/temp'), 'home_kitchen_temp');
    assert.equal(tableNameFor('1st/Floor-2'), 't_1st_floor_2');
    assert.equal(tableNameFor('tf/x'), 'topic_tf_x');
    assert.equal(tableNameFor('$SYS/#'), 'sys');
    assert.equal(tableNameFor('///'), 'topic_data');
    assert.ok(tableNameFor('a/'.repeat(100)).length <= 64);
  });

  it('reuses a flow connection to the same broker, else adds the explorer one (without its client id)', () => {
    const explorer = {
      id: 'local',
      url: 'mqtt://127.0.0.1:1884',
      protocolVersion: 5 as const,
      clientId: 'tf-explorer',
    };
    assert.deepEqual(planConnection(explorer, [{ id: 'mine', url: 'mqtt://127.0.0.1:1884' }]), {
      connections: [{ id: 'mine', url: 'mqtt://127.0.0.1:1884' }],
      id: 'mine',
      added: false,
    });
    const added = planConnection(explorer, [{ id: 'local', url: 'mqtt://elsewhere:1883' }]);
    assert.equal(added.id, 'local-2');
    assert.equal(added.added, true);
    assert.deepEqual(added.connections[1], { id: 'local-2', url: 'mqtt://127.0.0.1:1884', protocolVersion: 5 });
  });

  it('plans mqtt-in → validate → sqlite-sink with the inferred schema and mapped columns', () => {
    const plan = buildFlowPlan({ id: 'local', url: 'mqtt://127.0.0.1:1884' }, [], 'home/kitchen/temp', false, inferred);
    assert.equal(plan.connectionId, 'local');
    assert.equal(plan.connectionAdded, true);
    assert.deepEqual(plan.mqttIn, {
      connection: 'local',
      topic: 'home/kitchen/temp',
      qos: 1,
      decoding: 'json',
      maxPayloadBytes: 1048576,
      maxDepth: 64,
    });
    assert.deepEqual(plan.validate, { schema: inferred.schema, allErrors: false });
    assert.equal(plan.sink['table'], 'home_kitchen_temp');
    assert.deepEqual(plan.sink['columns'], [
      { name: 'temp', path: 'payload.temp', type: 'real', merge: false },
      // `id` is a built-in column of row mode: the mapped one gets another name.
      { name: 'id_', path: 'payload.id', type: 'text', merge: false },
      { name: 'count', path: 'payload.count', type: 'integer', merge: false },
    ]);
    const numbers = buildFlowPlan({ id: 'l', url: 'mqtt://h' }, [], 'a', true, { ...inferred, decode: 'number' });
    assert.equal(numbers.filter, 'a/#');
    assert.equal(numbers.sink['includePayload'], false);
    assert.deepEqual(numbers.sink['columns'], [{ name: 'value', path: 'payload', type: 'real', merge: false }]);
  });
});
