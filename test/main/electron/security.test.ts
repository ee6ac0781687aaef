import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  APP_ORIGIN,
  APP_SCHEME_PRIVILEGES,
  APP_START_URL,
  CONTENT_SECURITY_POLICY,
  appResponseHeaders,
  isAppUrl,
  isTrustedSender,
  linkDecision,
  permissionGranted,
  resolveAppFile,
  windowWebPreferences,
} from '../../../main/electron/security.js';
import {
  InvalidArgument,
  flowText,
  secretName,
  secretValue,
  suggestedFileName,
} from '../../../main/electron/ipcArguments.js';

/** The CSP as directive → sources. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [name as string, sources];
    }),
  );
}

describe('desktop security policy (main/electron/security.ts)', () => {
  it('every window is isolated and sandboxed, without Node', () => {
    const prefs = windowWebPreferences('/app/preload.cjs');
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInWorker, false);
    assert.equal(prefs.nodeIntegrationInSubFrames, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.allowRunningInsecureContent, false);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.preload, '/app/preload.cjs');
  });

  it('the CSP allows only the app itself: no eval, no inline script, no remote connections', () => {
    const csp = directives(CONTENT_SECURITY_POLICY);
    assert.deepEqual(csp.get('default-src'), ["'self'"]);
    assert.deepEqual(csp.get('script-src'), ["'self'"]);
    assert.deepEqual(csp.get('connect-src'), ["'self'"]);
    assert.deepEqual(csp.get('object-src'), ["'none'"]);
    assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-eval|wasm-unsafe-eval|https?:|\*/);
    for (const [name, sources] of csp) {
      if (name !== 'style-src') assert.ok(!sources.includes("'unsafe-inline'"), `${name} allows inline code`);
    }
    assert.equal(appResponseHeaders('/x/index.html')['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.equal(appResponseHeaders('/x/index.html')['content-type'], 'text/html; charset=utf-8');
    assert.equal(appResponseHeaders('/x/a.js')['content-type'], 'text/javascript; charset=utf-8');
  });

  it('the app scheme is a standard secure origin that does not bypass the CSP', () => {
    assert.equal(APP_ORIGIN, 'app://topicflow');
    assert.equal(APP_SCHEME_PRIVILEGES.privileges?.standard, true);
    assert.equal(APP_SCHEME_PRIVILEGES.privileges?.secure, true);
    assert.notEqual(APP_SCHEME_PRIVILEGES.privileges?.bypassCSP, true);
    assert.ok(isAppUrl(APP_START_URL));
  });

  it('serves files from the renderer folder only', () => {
    const root = join('/opt', 'tf', 'renderer');
    assert.equal(resolveAppFile(root, 'app://topicflow/'), join(root, 'index.html'));
    assert.equal(resolveAppFile(root, 'app://topicflow/assets/index-1.js'), join(root, 'assets', 'index-1.js'));
    assert.equal(resolveAppFile(root, 'app://topicflow/assets/a.js?v=1#x'), join(root, 'assets', 'a.js'));
    // The URL parser already folds dot segments (plain or %2e) into the root.
    assert.equal(resolveAppFile(root, 'app://topicflow/../secrets.json'), join(root, 'secrets.json'));
    assert.equal(resolveAppFile(root, 'app://topicflow/%2e%2e/secrets.json'), join(root, 'secrets.json'));
    for (const url of [
      'app://topicflow/assets/%2e%2e%2f%2e%2e%2fsecrets.json',
      'app://topicflow/..%2f..%2fsecrets.json',
      'app://topicflow/..%5c..%5csecrets.json',
      'app://topicflow/a%00.js',
      'app://topicflow/%E0%A4%A',
      'app://evil/index.html',
      'file:///etc/passwd',
      'https://topicflow/index.html',
      'not a url',
    ]) {
      assert.equal(resolveAppFile(root, url), undefined, url);
    }
  });

  it('trusts IPC only from the app page in the main frame', () => {
    assert.equal(isTrustedSender({ url: 'app://topicflow/index.html', parent: null }), true);
    assert.equal(isTrustedSender({ url: 'app://topicflow/index.html', parent: {} }), false, 'a subframe');
    assert.equal(isTrustedSender({ url: 'https://example.com/', parent: null }), false);
    assert.equal(isTrustedSender({ url: 'file:///tmp/x.html', parent: null }), false);
    assert.equal(isTrustedSender({ url: 'app://other/index.html', parent: null }), false);
    assert.equal(isTrustedSender(null), false, 'a frame already gone');
  });

  it('sends http(s) links to the OS browser and refuses everything else', () => {
    assert.equal(linkDecision('https://github.com/topicflow'), 'external');
    assert.equal(linkDecision('http://127.0.0.1:8080/'), 'external');
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'app://topicflow/index.html',
      'smb://host/share',
      'https://user:pw@example.com/',
      'data:text/html,<script>1</script>',
      '',
    ]) {
      assert.equal(linkDecision(url), 'deny', url);
    }
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal']) {
      assert.equal(permissionGranted(permission), false, permission);
    }
  });

  it('checks what the page sends to main', () => {
    assert.equal(secretName('MQTT_PASSWORD'), 'MQTT_PASSWORD');
    for (const bad of ['', '1ABC', 'A-B', 'a b', 'x'.repeat(129), 42, null]) {
      assert.throws(() => secretName(bad), InvalidArgument, String(bad));
    }
    assert.throws(() => secretValue(''), InvalidArgument);
    assert.throws(() => secretValue('x'.repeat(64 * 1024 + 1)), InvalidArgument);
    assert.equal(secretValue('s3cret'), 's3cret');
    assert.equal(suggestedFileName('demo'), 'demo.json');
    assert.equal(suggestedFileName('../../etc/passwd.json'), '_.._etc_passwd.json');
    assert.equal(suggestedFileName('a\u0000b.json'), 'a_b.json');
    assert.throws(() => suggestedFileName('...'), InvalidArgument);
    assert.throws(() => flowText({}), InvalidArgument);
    assert.throws(() => flowText('x'.repeat(5 * 1024 * 1024 + 1)), InvalidArgument);
  });
});
