import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Throwaway PKI for TLS tests: one CA, a server certificate for 127.0.0.1/localhost and a client certificate. */
export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** The client key again, encrypted with `clientKeyPassphrase`. */
  readonly clientKeyEncrypted: string;
  readonly clientKeyPassphrase: string;
  /** A second CA that signed nothing here: trusting only it must fail. */
  readonly otherCaFile: string;
}

const OPENSSL = process.env['OPENSSL_BIN'] ?? 'openssl';

/** Why openssl cannot be used, or undefined when it can. */
export function opensslUnavailable(): string | undefined {
  try {
    execFileSync(OPENSSL, ['version'], { stdio: 'pipe', timeout: 5000 });
    return undefined;
  } catch (error) {
    return `openssl is not available (${(error as Error).message.split('\n')[0]}); TLS tests need it to make certificates`;
  }
}

function openssl(args: string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: 'pipe', timeout: 20_000 });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string, subject: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

function makeLeaf(dir: string, name: string, subject: string, extensions: string, serial: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      serial,
      '-days',
      '2',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
}

/** Writes the PKI into `dir` (which must exist). Each openssl call is bounded to 20 s. */
export function generateTestCerts(dir: string): TestCerts {
  makeCa(dir, 'ca', '/CN=TopicFlow Test CA');
  makeCa(dir, 'other-ca', '/CN=Unrelated Test CA');
  makeLeaf(
    dir,
    'server',
    '/CN=localhost',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    '0x1001',
  );
  makeLeaf(
    dir,
    'client',
    '/CN=topicflow-test-client',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
    '0x1002',
  );
  const passphrase = 'correct horse battery staple';
  openssl(
    ['pkey', '-in', 'client.key', '-aes256', '-passout', `pass:${passphrase}`, '-out', 'client-encrypted.key'],
    dir,
  );
  // Mosquitto started as root drops to its own user before it reads these: let it (throwaway keys).
  chmodSync(dir, 0o755);
  for (const file of readdirSync(dir)) chmodSync(join(dir, file), 0o644);
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    clientKeyEncrypted: join(dir, 'client-encrypted.key'),
    clientKeyPassphrase: passphrase,
    otherCaFile: join(dir, 'other-ca.crt'),
  };
}
