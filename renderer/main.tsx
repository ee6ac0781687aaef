import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './components/App.js';
import { SecretsBanner } from './desktop/SecretsBanner.js';
import { desktopBridge, desktopPlatform, desktopPortSource } from './desktopPlatform.js';
import { ProtocolClient } from './protocolClient.js';
import { attachPanel } from './panelStore.js';
import { setPlatform } from './platform.js';
import { attachClient } from './store.js';
import { attachExplorer } from './explorer/explorerStore.js';

// In the desktop app the preload's bridge is there: its dialogs, menus and keychain, and a
// MessagePort to the engine; in a browser, the WebSocket of `topicflow serve`.
const bridge = desktopBridge();
if (bridge) setPlatform(desktopPlatform(bridge));
const client = bridge ? ProtocolClient.overPorts(desktopPortSource(bridge)) : ProtocolClient.forPage(window.location);
attachPanel(client);
attachClient(client);
attachExplorer(client);

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
    {bridge && <SecretsBanner />}
  </StrictMode>,
);
