import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SecretsStore, type Encryptor } from '../../../main/electron/secrets.js';
import { tempDir } from '../../helpers/paths.js';

/**
 * safeStorage needs Electron and an OS keychain, neither of which runs here: this is the one
 * stand-in. It transforms reversibly (XOR with a key, base64 by the store) so a plain value
 * never appears in the file, and it fails to decrypt when the key changes, as a keychain does.
 */
function fakeKeychain(backend: string, available = true, key = 0x5a): Encryptor {
  return {
    isEncryptionAvailable: () => available,
    backend: () => backend,
    encryptString: (plain) => Buffer.concat([Buffer.from([key]), Buffer.from(plain).map((b) => b ^ key)]),
    decryptString: (encrypted) => {
      if (encrypted[0] !== key) throw new Error('Error while decrypting the ciphertext provided to safeStorage');
      return Buffer.from(encrypted.subarray(1).map((b) => b ^ key)).toString();
    },
  };
}

describe('desktop secrets (main/electron/secrets.ts)', () => {
  it('keeps values encrypted in secrets.json (0600) and reads them back', (t) => {
    const dir = tempDir('topicflow-secrets-');
    t.after(() => dir.cleanup());
    const path = join(dir.path, 'secrets.json');
    const store = SecretsStore.open(path, fakeKeychain('gnome_libsecret'));
    store.set('MQTT_PASSWORD', 'correct horse battery staple');
    store.set('API_TOKEN', 'tok-123');
    assert.deepEqual(store.status(), {
      encrypted: true,
      backend: 'gnome_libsecret',
      names: ['API_TOKEN', 'MQTT_PASSWORD'],
    });
    const text = readFileSync(path, 'utf8');
    assert.doesNotMatch(text, /correct horse|tok-123/);
    assert.equal(statSync(path).mode & 0o777, 0o600);

    const again = SecretsStore.open(path, fakeKeychain('gnome_libsecret'));
    assert.equal(again.get('MQTT_PASSWORD'), 'correct horse battery staple');
    assert.deepEqual(again.snapshot(), { API_TOKEN: 'tok-123', MQTT_PASSWORD: 'correct horse battery staple' });
    assert.equal(again.remove('API_TOKEN'), true);
    assert.equal(again.remove('API_TOKEN'), false);
    assert.deepEqual(SecretsStore.open(path, fakeKeychain('gnome_libsecret')).status().names, ['MQTT_PASSWORD']);
  });

  it('says so where there is no real keychain (basic_text, or none), and keeps plain text', (t) => {
    const dir = tempDir('topicflow-secrets-');
    t.after(() => dir.cleanup());
    for (const [name, encryptor, backend] of [
      ['basic.json', fakeKeychain('basic_text'), 'basic_text'],
      ['none.json', fakeKeychain('unknown', false), 'none'],
    ] as const) {
      const path = join(dir.path, name);
      const store = SecretsStore.open(path, encryptor);
      store.set('TOKEN', 'plain-value');
      assert.deepEqual(store.status(), { encrypted: false, backend, names: ['TOKEN'] });
      assert.match(readFileSync(path, 'utf8'), /"encrypted": false/);
    }
    // A keychain appearing later: the plain entry is read, and re-encrypted on the next write.
    const path = join(dir.path, 'basic.json');
    const upgraded = SecretsStore.open(path, fakeKeychain('kwallet5'));
    assert.equal(upgraded.get('TOKEN'), 'plain-value');
    upgraded.set('OTHER', 'x');
    assert.doesNotMatch(readFileSync(path, 'utf8'), /plain-value|"encrypted": false/);
  });

  it('keeps an entry it cannot decrypt without serving it, and names a corrupt file', (t) => {
    const dir = tempDir('topicflow-secrets-');
    t.after(() => dir.cleanup());
    const path = join(dir.path, 'secrets.json');
    SecretsStore.open(path, fakeKeychain('keychain', true, 1)).set('OLD', 'v');
    const warnings: unknown[] = [];
    const store = SecretsStore.open(path, fakeKeychain('keychain', true, 2), {
      warn: (fields) => warnings.push(fields),
    });
    assert.equal(store.get('OLD'), undefined);
    assert.deepEqual(store.status().names, []);
    assert.equal(warnings.length, 1);
    assert.doesNotMatch(JSON.stringify(warnings), /"v"/);
    store.set('NEW', 'w');
    assert.match(readFileSync(path, 'utf8'), /"OLD"/, 'the unreadable entry is kept');

    writeFileSync(path, '{ nope');
    assert.throws(() => SecretsStore.open(path, fakeKeychain('keychain')), new RegExp(`${path}.*not JSON`));
    writeFileSync(path, '{"entries": {}}');
    assert.throws(() => SecretsStore.open(path, fakeKeychain('keychain')), /not a TopicFlow secrets file/);
  });
});
