import { Type } from '@sinclair/typebox';
import { IDENTIFIER, StringEnum } from '../schemaHelpers.js';
import { defineNode } from './nodeSpec.js';

export const COLUMN_TYPES = ['any', 'integer', 'real', 'text', 'json', 'blob'] as const;

export const sqliteSinkSpec = defineNode({
  type: 'sqlite-sink',
  title: 'SQLite',
  category: 'sink',
  summary:
    "Writes messages to a table of the workspace's SQLite store, created if missing, in batched transactions. `row`: one row per message (`ts`, `topic`, `payload` JSON, mapped columns). `attributes`: one row per top-level attribute (`msg_id`, `topic`, `attribute`, `value`, `ts`). `upsert`: last-known state, one row per key.",
  inputs: [{ name: 'in', description: 'Messages to store.' }],
  outputs: [],
  config: Type.Object(
    {
      table: Type.String({ pattern: IDENTIFIER, maxLength: 64, description: 'Table name.', examples: ['readings'] }),
      mode: StringEnum(['row', 'attributes', 'upsert'], { default: 'row', description: 'Table layout.' }),
      columns: Type.Array(
        Type.Object(
          {
            name: Type.String({ pattern: IDENTIFIER, maxLength: 64 }),
            path: Type.String({
              pattern: '^(payload|params|topic|receivedAt|seq|id|qos|retain)(\\.[^.]+)*$',
              description:
                'Where the value comes from: `payload`, `payload.a.b`, `params.device`, `topic`, `receivedAt`, `seq`, `id`, `qos`, `retain`.',
            }),
            type: StringEnum(COLUMN_TYPES, {
              default: 'any',
              description:
                '`any` keeps numbers and text as they are and stores objects as JSON; `json` always stores JSON text.',
            }),
            merge: Type.Boolean({
              default: false,
              description: 'upsert only: merge JSON objects into the stored value (json_patch) instead of replacing.',
            }),
          },
          { additionalProperties: false },
        ),
        { default: [], maxItems: 200, description: 'Mapped columns (row and upsert modes).' },
      ),
      keys: Type.Array(Type.String({ pattern: IDENTIFIER }), {
        default: [],
        maxItems: 16,
        description: 'upsert only: the columns that identify a row (its primary key).',
      }),
      includePayload: Type.Boolean({
        default: true,
        description: 'row mode: keep the whole payload as JSON in a `payload` column.',
      }),
      dedupe: Type.String({
        default: 'auto',
        minLength: 1,
        maxLength: 200,
        description:
          'How a message redelivered after a crash is recognised and written once. `auto`: a QoS 1/2 message by its connection, MQTT packet id, topic and payload (a broker redelivers with the same packet id); `off`; or a path such as `payload.msgId` whose value identifies a message (messages without it are not deduplicated).',
        examples: ['auto', 'off', 'payload.msgId'],
      }),
      dedupeWindow: Type.Integer({
        minimum: 100,
        maximum: 10000000,
        default: 10000,
        description: 'How many recent message keys are remembered for `dedupe`.',
      }),
      batchSize: Type.Integer({
        minimum: 1,
        maximum: 100000,
        default: 1000,
        description:
          'A transaction commits when this many messages wait, or as soon as the input goes idle (no timer: latency stays low at low rates).',
      }),
    },
    { additionalProperties: false },
  ),
  check: (config) => {
    const problems: { path: string; message: string }[] = [];
    const reserved = config.mode === 'row' ? ['id', 'ts', 'topic', ...(config.includePayload ? ['payload'] : [])] : [];
    const seen = new Set<string>();
    config.columns.forEach((column, i) => {
      const name = column.name.toLowerCase();
      if (seen.has(name))
        problems.push({ path: `/columns/${i}/name`, message: `column "${column.name}" is declared twice` });
      if (reserved.includes(name)) {
        problems.push({ path: `/columns/${i}/name`, message: `"${column.name}" is a built-in column of row mode` });
      }
      if (column.merge && config.mode !== 'upsert') {
        problems.push({ path: `/columns/${i}/merge`, message: 'merge applies to upsert mode only' });
      }
      seen.add(name);
    });
    if (config.mode === 'attributes' && config.columns.length > 0) {
      problems.push({ path: '/columns', message: 'attributes mode has a fixed layout; remove the mapped columns' });
    }
    if (config.mode === 'upsert') {
      if (config.keys.length === 0)
        problems.push({ path: '/keys', message: 'upsert mode needs at least one key column' });
      config.keys.forEach((key, i) => {
        if (!seen.has(key.toLowerCase()))
          problems.push({ path: `/keys/${i}`, message: `key "${key}" is not one of the columns` });
      });
    } else if (config.keys.length > 0) {
      problems.push({ path: '/keys', message: 'keys apply to upsert mode only' });
    }
    if (config.dedupe !== 'auto' && config.dedupe !== 'off' && !/^[A-Za-z_]\w*(\.[\w-]+)*$/.test(config.dedupe)) {
      problems.push({ path: '/dedupe', message: 'must be "auto", "off" or a dotted path such as payload.msgId' });
    }
    return problems;
  },
  example: {
    table: 'readings',
    mode: 'row',
    columns: [{ name: 'value', path: 'payload', type: 'real', merge: false }],
    keys: [],
    includePayload: false,
    dedupe: 'auto',
    dedupeWindow: 10000,
    batchSize: 1000,
  },
});
