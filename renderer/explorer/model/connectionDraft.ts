import type { FlowConnection } from '../../../shared/flow/flowDocument.js';
import type { ExplorerConnectionConfig } from '../../../shared/protocol/explorerProtocol.js';

/** The connection form's fields, as text: what the user typed, before it is checked. */
export interface ConnectionDraft {
  readonly id: string;
  readonly name: string;
  readonly mode: 'url' | 'embedded';
  readonly url: string;
  readonly embeddedPort: string;
  readonly protocolVersion: 4 | 5;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly passphrase: string;
  readonly servername: string;
  /** One filter per line. */
  readonly filters: string;
  readonly enabled: boolean;
}

export type DraftField = keyof ConnectionDraft;
export type DraftErrors = Partial<Record<DraftField, string>>;

/** Subscription filters of one connection at most (each is a subscription on the broker). */
export const MAX_FILTERS = 32;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A secret field holds exactly one reference, without a `:-fallback` (that would be a literal). */
const SECRET_REFERENCE = /^\$\{(env|secret):[A-Za-z_][A-Za-z0-9_]*\}$/;
const URL_SCHEME = /^(mqtts?|wss?):\/\/[^\s]+$/;

/**
 * Why a subscription filter is not a plain MQTT filter, or undefined when it is. Not
 * shared/topicFilter.ts: that parser accepts the named wildcards of flows (`{device}`), which a
 * broker subscription must not contain.
 */
export function filterProblem(filter: string): string | undefined {
  if (filter.includes('\u0000')) return 'contains a NUL character';
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    if (level === '#' && i !== levels.length - 1) return `"#" must be the last level`;
    if (level !== '#' && level !== '+' && (level.includes('#') || level.includes('+'))) {
      return `"${level}" mixes a wildcard with text; "+" and "#" must fill a whole level`;
    }
    if (/\{[^}]*\}/.test(level)) return 'named wildcards such as {device} belong to flows, not here';
  }
  return undefined;
}

export function emptyDraft(existingIds: readonly string[] = []): ConnectionDraft {
  let n = 1;
  while (existingIds.includes(`broker-${n}`)) n++;
  return {
    id: `broker-${n}`,
    name: '',
    mode: 'url',
    url: 'mqtt://127.0.0.1:1883',
    embeddedPort: '0',
    protocolVersion: 5,
    clientId: '',
    username: '',
    password: '',
    ca: '',
    cert: '',
    key: '',
    passphrase: '',
    servername: '',
    filters: '#',
    enabled: true,
  };
}

export function draftFromConfig(config: ExplorerConnectionConfig): ConnectionDraft {
  const c = config.connection;
  return {
    id: c.id,
    name: c.name ?? '',
    mode: c.embedded ? 'embedded' : 'url',
    url: c.url ?? '',
    embeddedPort: String(c.embedded?.port ?? 0),
    protocolVersion: c.protocolVersion ?? 5,
    clientId: c.clientId ?? '',
    username: c.username ?? '',
    password: c.password ?? '',
    ca: c.tls?.ca ?? '',
    cert: c.tls?.cert ?? '',
    key: c.tls?.key ?? '',
    passphrase: c.tls?.passphrase ?? '',
    servername: c.tls?.servername ?? '',
    filters: config.filters.join('\n'),
    enabled: config.enabled,
  };
}

function secretProblem(value: string, what: string): string | undefined {
  if (value === '' || SECRET_REFERENCE.test(value)) return undefined;
  return `${what} must be a reference such as \${env:MQTT_PASSWORD} or \${secret:MQTT_PASSWORD}, never the secret itself (it would be saved in plain text)`;
}

/**
 * Checks a draft and builds the connection config. Errors name the field and say what is wrong;
 * a literal password or passphrase is refused (secrets travel as references only).
 */
export function draftToConfig(
  draft: ConnectionDraft,
  takenIds: readonly string[] = [],
): { config: ExplorerConnectionConfig | undefined; errors: DraftErrors } {
  const errors: DraftErrors = {};
  const id = draft.id.trim();
  if (!ID.test(id)) errors.id = 'letters, digits, "_", "." or "-" (at most 64), starting with a letter or digit';
  else if (takenIds.includes(id)) errors.id = `a connection "${id}" exists already`;

  const url = draft.url.trim();
  let port = 0;
  if (draft.mode === 'url') {
    if (url === '') errors.url = 'the broker URL is required';
    else if (!URL_SCHEME.test(url) && !url.startsWith('${env:')) {
      errors.url = 'must start with mqtt://, mqtts://, ws:// or wss:// (or be an ${env:NAME} reference)';
    }
  } else {
    port = Number(draft.embeddedPort.trim());
    if (!Number.isInteger(port) || port < 0 || port > 65535 || draft.embeddedPort.trim() === '') {
      errors.embeddedPort = 'a port from 0 to 65535 (0 picks a free port)';
    }
  }
  if (draft.clientId.length > 128) errors.clientId = 'at most 128 characters';
  const password = secretProblem(draft.password.trim(), 'The password');
  if (password) errors.password = password;
  const passphrase = secretProblem(draft.passphrase.trim(), 'The key passphrase');
  if (passphrase) errors.passphrase = passphrase;
  if (draft.password.trim() !== '' && draft.username.trim() === '') {
    errors.username = 'a password needs a username';
  }

  const filters = draft.filters
    .split('\n')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  if (filters.length === 0) errors.filters = 'at least one filter, such as # for every topic';
  else if (filters.length > MAX_FILTERS) errors.filters = `at most ${MAX_FILTERS} filters`;
  else {
    for (const filter of filters) {
      const problem = filterProblem(filter);
      if (problem) {
        errors.filters = `"${filter}": ${problem}`;
        break;
      }
    }
  }
  if (Object.keys(errors).length > 0) return { config: undefined, errors };

  const tls = {
    ...(draft.ca.trim() ? { ca: draft.ca.trim() } : {}),
    ...(draft.cert.trim() ? { cert: draft.cert.trim() } : {}),
    ...(draft.key.trim() ? { key: draft.key.trim() } : {}),
    ...(draft.passphrase.trim() ? { passphrase: draft.passphrase.trim() } : {}),
    ...(draft.servername.trim() ? { servername: draft.servername.trim() } : {}),
  };
  const connection: FlowConnection = {
    id,
    ...(draft.name.trim() ? { name: draft.name.trim() } : {}),
    ...(draft.mode === 'url' ? { url } : { embedded: { port } }),
    protocolVersion: draft.protocolVersion,
    ...(draft.clientId.trim() ? { clientId: draft.clientId.trim() } : {}),
    ...(draft.username.trim() ? { username: draft.username.trim() } : {}),
    ...(draft.password.trim() ? { password: draft.password.trim() } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
  };
  return { config: { connection, filters, enabled: draft.enabled }, errors };
}
