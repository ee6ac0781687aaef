import { ReactFlowProvider } from '@xyflow/react';
import { Canvas } from './Canvas.js';
import { Inspector } from './Inspector.js';
import { Palette } from './Palette.js';
import { Toolbar } from './Toolbar.js';

export function App() {
  return (
    <ReactFlowProvider>
      <div className="app">
        <Toolbar />
        <Palette />
        <Canvas />
        <Inspector />
      </div>
    </ReactFlowProvider>
  );
}
