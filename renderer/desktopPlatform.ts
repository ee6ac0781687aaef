/**
 * The editor inside the desktop app: the Platform backed by the preload's bridge
 * (main/electron/preload.cts, exposed as `window.topicflowDesktop`), and the ports to the engine's
 * utility process that the preload hands over as window messages (a MessagePort cannot cross
 * contextBridge; `window.postMessage` can transfer it).
 */
import { ENGINE_DOWN_MESSAGE, ENGINE_PORT_MESSAGE, type DesktopBridge } from '../shared/desktop/desktopBridge.js';
import type { Platform } from './platform.js';
import type { ClientPort, PortSource } from './protocolClient.js';

/** How long a requested port may take (the engine may be restarting); then the client retries. */
const PORT_REQUEST_TIMEOUT_MS = 15_000;

declare global {
  interface Window {
    /** Present only in the desktop app (the preload). */
    readonly topicflowDesktop?: DesktopBridge;
  }
}

/** The preload's bridge when this page runs in the desktop app, else undefined. */
export function desktopBridge(): DesktopBridge | undefined {
  const bridge = window.topicflowDesktop;
  return bridge && bridge.version === 1 ? bridge : undefined;
}

export function desktopPlatform(bridge: DesktopBridge): Platform {
  return {
    kind: 'desktop',
    importFlow: () => bridge.importFlow(),
    exportFlow: (suggestedName, text) => bridge.exportFlow(suggestedName, text),
    onMenuCommand: (listener) => bridge.onMenuCommand(listener),
    secrets: {
      status: () => bridge.secretsStatus(),
      set: (name, value) => bridge.setSecret(name, value),
      remove: (name) => bridge.removeSecret(name),
    },
  };
}

/**
 * Ports to the engine: each request asks main (through the bridge) for a new MessageChannel and
 * takes the port that arrives next; a port arriving while none is wanted is closed.
 */
export function desktopPortSource(bridge: DesktopBridge): PortSource {
  let waiting: { resolve(port: ClientPort): void; reject(error: Error): void } | undefined;
  const disconnectListeners = new Set<() => void>();

  window.addEventListener('message', (event: MessageEvent) => {
    // Only what the preload posted to this very window (it runs in this page's isolated world).
    if (event.source !== window || event.origin !== window.location.origin) return;
    const type = (event.data as { type?: unknown } | null)?.type;
    if (type === ENGINE_PORT_MESSAGE) {
      const port = event.ports[0];
      if (!port) return;
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w.resolve(port);
      } else {
        port.close();
      }
    } else if (type === ENGINE_DOWN_MESSAGE) {
      for (const listener of disconnectListeners) listener();
    }
  });

  return {
    request() {
      waiting?.reject(new Error('superseded by a newer request'));
      return new Promise<ClientPort>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (waiting?.resolve !== done) return;
          waiting = undefined;
          reject(new Error(`no port to the engine within ${PORT_REQUEST_TIMEOUT_MS} ms`));
        }, PORT_REQUEST_TIMEOUT_MS);
        const done = (port: ClientPort): void => {
          clearTimeout(timer);
          resolve(port);
        };
        waiting = {
          resolve: done,
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        bridge.connectEngine();
      });
    },
    onDidDisconnect(listener) {
      disconnectListeners.add(listener);
      return () => disconnectListeners.delete(listener);
    },
  };
}
