import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './components/App.js';
import { ProtocolClient } from './protocolClient.js';
import { attachPanel } from './panelStore.js';
import { attachClient } from './store.js';

const client = ProtocolClient.forPage(window.location);
attachPanel(client);
attachClient(client);

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
