import { ReactFlowProvider } from '@xyflow/react';
import { ExplorerShell } from '../explorer/ExplorerShell.js';
import { usePanel } from '../panelStore.js';
import { BottomPanel } from './BottomPanel.js';
import { Canvas } from './Canvas.js';
import { Inspector } from './Inspector.js';
import { Palette } from './Palette.js';
import { useEditorShortcuts } from './shortcuts.js';
import { Toolbar } from './Toolbar.js';

/** Height of the collapsed bottom panel: its tab strip. */
const COLLAPSED_PANEL_PX = 31;

export function App() {
  const collapsed = usePanel((s) => s.collapsed);
  const height = usePanel((s) => s.height);
  useEditorShortcuts();
  return (
    <ExplorerShell>
      <ReactFlowProvider>
        <div
          className="app"
          style={{ gridTemplateRows: `44px minmax(0, 1fr) ${collapsed ? COLLAPSED_PANEL_PX : height}px` }}
        >
          <Toolbar />
          <Palette />
          <Canvas />
          <BottomPanel />
          <Inspector />
        </div>
      </ReactFlowProvider>
    </ExplorerShell>
  );
}
