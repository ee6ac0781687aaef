import type { ValidateFunction } from 'ajv';
import { createCatalogAjv, describeAjvError } from '../../../shared/catalogAjv.js';
import { ConnectionSchema, type FlowConnection } from '../../../shared/flow/flowDocument.js';
import { filterProblem } from '../../../shared/explorer/topicFilters.js';
import type { ExplorerConnectionConfig } from '../../../shared/protocol/explorerProtocol.js';

/** Most subscription filters per explorer connection. */
export const MAX_EXPLORER_FILTERS = 32;
/** Most explorer connections. */
export const MAX_EXPLORER_CONNECTIONS = 32;

/** A bad request to the explorer; `field` names what is wrong (a JSON pointer into the params). */
export class ExplorerError extends Error {
  constructor(
    readonly code: 'invalid-params' | 'not-found' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'ExplorerError';
  }
}

export function invalid(field: string, message: string): ExplorerError {
  return new ExplorerError('invalid-params', `${field}: ${message}`);
}

let connectionValidator: ValidateFunction | undefined;

/**
 * Checks an explorer connection config with the flow format's own ConnectionSchema (the same
 * Ajv set-up as flows, so `password` and `tls.passphrase` must be references), then the rules
 * validateFlow adds (url xor embedded, URL scheme, clientId with a persistent session), then
 * the filters. Throws an ExplorerError naming the field (`/config/connection/url`); returns a
 * plain copy otherwise (defaults not filled in: the saved file keeps what the user wrote).
 */
export function checkExplorerConfig(input: unknown, at = '/config'): ExplorerConnectionConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid(at, 'must be an object');
  const value = input as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!['connection', 'filters', 'enabled'].includes(key)) throw invalid(`${at}/${key}`, 'is not a known property');
  }
  const connection = JSON.parse(JSON.stringify(value['connection'] ?? null)) as unknown;
  if (connection === null || typeof connection !== 'object') throw invalid(`${at}/connection`, 'must be an object');
  connectionValidator ??= createCatalogAjv().compile(ConnectionSchema);
  // Ajv fills defaults into what it validates: validate a copy.
  const probe = JSON.parse(JSON.stringify(connection)) as unknown;
  if (!connectionValidator(probe)) {
    const first = (connectionValidator.errors ?? [])[0];
    const { path, message } = first ? describeAjvError(first) : { path: '', message: 'is invalid' };
    throw invalid(`${at}/connection${path}`, message);
  }
  const c = connection as FlowConnection;
  if (c.url === undefined && c.embedded === undefined) {
    throw invalid(`${at}/connection`, 'needs either "url" (an external broker) or "embedded" (the built-in broker)');
  }
  if (c.url !== undefined && c.embedded !== undefined)
    throw invalid(`${at}/connection`, 'has both "url" and "embedded"; choose one');
  if (c.url !== undefined) {
    const url = c.url.replace(/\$\{env:[A-Za-z0-9_]+:-([^}]*)\}/g, '$1');
    if (!/\$\{/.test(url) && !/^(mqtts?|wss?):\/\/[^/]/.test(url)) {
      throw invalid(`${at}/connection/url`, `"${c.url}" must start with mqtt://, mqtts://, ws:// or wss://`);
    }
  }
  if (c.password !== undefined && c.username === undefined) {
    // mqtt-packet refuses to write such a CONNECT, and the client would retry it forever.
    throw invalid(`${at}/connection/username`, 'is required with "password"');
  }
  if (c.clean === false && !c.clientId) {
    throw invalid(`${at}/connection/clientId`, 'is required with "clean": false');
  }
  const filters = value['filters'] ?? ['#'];
  if (!Array.isArray(filters) || filters.length === 0 || filters.length > MAX_EXPLORER_FILTERS) {
    throw invalid(`${at}/filters`, `must be 1 to ${MAX_EXPLORER_FILTERS} topic filters`);
  }
  filters.forEach((f: unknown, i) => {
    if (typeof f !== 'string') throw invalid(`${at}/filters/${i}`, 'must be a string');
    const problem = filterProblem(f);
    if (problem) throw invalid(`${at}/filters/${i}`, problem);
  });
  const enabled = value['enabled'] ?? true;
  if (typeof enabled !== 'boolean') throw invalid(`${at}/enabled`, 'must be true or false');
  return { connection: c, filters: [...new Set(filters as string[])], enabled };
}

/** The default explorer connection when none is saved: the embedded broker, everything. */
export function defaultExplorerConfig(port: number): ExplorerConnectionConfig {
  return { connection: { id: 'local', name: 'Embedded broker', embedded: { port } }, filters: ['#'], enabled: true };
}
