import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import type { FlowConnection } from '../../../shared/flow/flowDocument.js';

/**
 * mqtt.js options for a flow connection whose references are already resolved: protocol
 * version, session, MQTT 5 properties, credentials, TLS files (read here, so a missing file is
 * an error naming the connection and the file). Shared by the flow engine's connections and the
 * topic explorer's. The URL (or the embedded broker) is the caller's business.
 */
export function mqttClientOptions(connection: FlowConnection): IClientOptions {
  const options: IClientOptions = {
    protocolVersion: connection.embedded ? 4 : (connection.protocolVersion ?? 5),
    clientId: connection.clientId ?? `topicflow-${randomBytes(6).toString('hex')}`,
    clean: connection.clean ?? true,
    keepalive: connection.keepalive ?? 30,
    connectTimeout: 10_000,
    resubscribe: true,
    ...(!connection.embedded && (connection.protocolVersion ?? 5) === 5
      ? {
          properties: {
            receiveMaximum: connection.receiveMaximum ?? 1000,
            ...(connection.sessionExpiry !== undefined ? { sessionExpiryInterval: connection.sessionExpiry } : {}),
          },
        }
      : {}),
    ...(connection.username !== undefined ? { username: connection.username } : {}),
    ...(connection.password !== undefined ? { password: connection.password } : {}),
  };
  const tls = connection.tls;
  if (tls) {
    const read = (path: string | undefined, what: string): Buffer | undefined => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (error) {
        throw new Error(
          `connection "${connection.id}": cannot read TLS ${what} file ${path}: ${(error as Error).message}`,
        );
      }
    };
    const ca = read(tls.ca, 'CA');
    const cert = read(tls.cert, 'certificate');
    const key = read(tls.key, 'key');
    if (ca) options.ca = ca;
    if (cert) options.cert = cert;
    if (key) options.key = key;
    // tls.connect reads the passphrase; IClientOptions does not declare it.
    if (tls.passphrase !== undefined) Object.assign(options, { passphrase: tls.passphrase });
    if (tls.servername !== undefined) options.servername = tls.servername;
  }
  // Certificate checks stay on: nothing here ever turns rejectUnauthorized off.
  options.rejectUnauthorized = true;
  return options;
}
