import type { FlowConnection } from '../../shared/flow/flowDocument.js';
import { addNode, connect, requestFit, setConnections, setFlowName, updateNode, useEditor } from '../store.js';
import { showView, useExplorer } from './explorerStore.js';
import { closeFlowDialog } from './explorerActions.js';
import { buildFlowPlan, type FlowPlan } from './model/flowPlan.js';

/** Horizontal distance between the three new nodes (node width 190 plus room for the edge). */
const STEP_X = 280;
/** Space left under the nodes already on the canvas. */
const GAP_Y = 160;
/** The canvas mounts and measures its nodes within a frame or two of switching views. */
const FIT_DELAY_MS = 150;

/** The plan for the open dialog against the flow on the canvas now. */
export function currentPlan(): FlowPlan | undefined {
  const { flowDialog, connections, selectedConnection } = useExplorer.getState();
  const info = connections.find((c) => c.config.connection.id === selectedConnection);
  if (!flowDialog?.inferred || !info) return undefined;
  return buildFlowPlan(
    info.config.connection as FlowConnection,
    useEditor.getState().meta.connections,
    flowDialog.topic,
    flowDialog.subtree,
    flowDialog.inferred,
  );
}

/**
 * Puts mqtt-in → validate → sqlite-sink on the canvas, left to right under what is there, through
 * the editor store's public actions (each one an undo step), then shows the Flow view to deploy.
 */
export function createFlowOnCanvas(plan: FlowPlan): boolean {
  const editor = useEditor.getState();
  for (const type of ['mqtt-in', 'validate', 'sqlite-sink']) {
    if (!editor.catalogByType[type]) {
      useExplorer.setState({ notice: { kind: 'error', text: `The node catalog has no ${type} yet; try again.` } });
      return false;
    }
  }
  if (plan.connectionAdded) setConnections(plan.connections);
  const bottom = editor.nodes.reduce((max, n) => Math.max(max, n.position.y), Number.NEGATIVE_INFINITY);
  const y = Number.isFinite(bottom) ? bottom + GAP_Y : 120;
  const x = 80;
  const source = addNode('mqtt-in', { x, y });
  const check = addNode('validate', { x: x + STEP_X, y });
  const sink = addNode('sqlite-sink', { x: x + 2 * STEP_X, y });
  if (!source || !check || !sink) return false;
  updateNode(source, `MQTT ${plan.filter}`.slice(0, 200), plan.mqttIn);
  updateNode(check, 'Validate (inferred)', plan.validate);
  updateNode(sink, `SQLite ${plan.table}`, plan.sink);
  connect({ source, sourceHandle: 'out', target: check, targetHandle: 'in' });
  connect({ source: check, sourceHandle: 'valid', target: sink, targetHandle: 'in' });
  // A fresh canvas gets a name that says what the flow stores.
  if (editor.nodes.length === 0 && editor.meta.name === 'Untitled flow') setFlowName(`${plan.table} from MQTT`);
  useEditor.setState({
    notice: {
      kind: 'info',
      text: `Created ${plan.filter} → validate → ${plan.table}${plan.connectionAdded ? ` (connection ${plan.connectionId} added)` : ''}: deploy to run it.`,
    },
  });
  closeFlowDialog();
  showView('flow');
  // Once the canvas is back and has measured the new nodes, show the whole flow.
  setTimeout(requestFit, FIT_DELAY_MS);
  return true;
}
