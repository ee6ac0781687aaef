/**
 * The desktop app's security policy as plain data and pure functions: window preferences, the
 * content security policy, which URLs the app serves, which senders its IPC trusts, and where a
 * link may go. Kept free of Electron's runtime (types only) so tests check it under plain Node.
 */
import { extname, relative, resolve, sep } from 'node:path';
import type { CustomScheme, WebPreferences } from 'electron';

/** The privileged scheme that serves the built renderer (dist/renderer); nothing remote is loaded. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'topicflow';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_START_URL = `${APP_ORIGIN}/index.html`;

/**
 * `standard` gives the scheme an origin (relative URLs, localStorage), `secure` makes it a secure
 * context like https; no `bypassCSP`, no `corsEnabled` for others, no service workers.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, stream: false },
};

/**
 * Strict: only the app's own files, no eval, no inline script, no plugins, no frames, no remote
 * connections (the engine is reached over a MessagePort, not the network). Inline *styles* stay
 * allowed: React Flow positions nodes with style attributes.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Every window of the app: isolated, sandboxed, no Node in the page. */
export function windowWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** True when `url` is one of the app's own pages (`app://topicflow/...`). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

/** The least of an IPC sender frame the check needs (Electron's WebFrameMain fits). */
export interface SenderFrame {
  readonly url: string;
  readonly parent: unknown;
}

/**
 * Whether an IPC message may be served: it comes from the app's own page, in the window's main
 * frame (not a subframe, which could only come from somewhere else).
 */
export function isTrustedSender(frame: SenderFrame | null | undefined): boolean {
  return frame !== null && frame !== undefined && frame.parent === null && isAppUrl(frame.url);
}

/**
 * Where a navigation or `window.open` may go: never inside the app's window; an http(s) link
 * without credentials opens in the OS browser; anything else (file:, javascript:, custom schemes)
 * is refused.
 */
export function linkDecision(url: string): 'deny' | 'external' {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'deny';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'deny';
  if (parsed.username !== '' || parsed.password !== '') return 'deny';
  return 'external';
}

/** Permission requests (camera, notifications, clipboard-read, ...): none is granted. */
export function permissionGranted(_permission: string): boolean {
  return false;
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export function mimeTypeOf(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file under `rendererDir` that an `app://topicflow/...` request names, or undefined when the
 * URL is not the app's or would leave the folder (`..`, encoded or not).
 */
export function resolveAppFile(rendererDir: string, requestUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0')) return undefined;
  const root = resolve(rendererDir);
  const file = resolve(root, `.${pathname === '/' ? '/index.html' : pathname}`);
  const inside = relative(root, file);
  if (inside === '' || inside.startsWith('..') || inside.split(sep).includes('..')) return undefined;
  return file;
}

/** Headers of every response the app protocol serves. */
export function appResponseHeaders(path: string): Record<string, string> {
  return {
    'content-type': mimeTypeOf(path),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}
