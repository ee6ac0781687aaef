import { Workflow, X } from 'lucide-react';
import { createFlowOnCanvas, currentPlan } from './createFlow.js';
import { useExplorer } from './explorerStore.js';
import { closeFlowDialog } from './explorerActions.js';

/** From topic to flow: the inferred schema, what will be created, and the button that does it. */
export function FlowDialog() {
  const dialog = useExplorer((s) => s.flowDialog);
  if (!dialog) return null;
  const plan = dialog.inferred ? currentPlan() : undefined;
  return (
    <div className="ex-modal-backdrop" role="presentation">
      <div className="ex-modal ex-flow-dialog" role="dialog" aria-label="Create a flow">
        <div className="ex-modal-head">
          <span>
            Create a flow from <code>{plan?.filter ?? dialog.topic}</code>
          </span>
          <button type="button" className="ghost icon" aria-label="Close" onClick={closeFlowDialog}>
            <X size={16} />
          </button>
        </div>
        {!dialog.inferred && !dialog.error && <p className="muted">Inferring a schema from the observed payloads…</p>}
        {dialog.error && <p className="ex-field-error">{dialog.error}</p>}
        {dialog.inferred && (
          <>
            <p className="small">
              Inferred from {dialog.inferred.samples} payload{dialog.inferred.samples === 1 ? '' : 's'} of{' '}
              {dialog.inferred.topics.length} topic{dialog.inferred.topics.length === 1 ? '' : 's'}
              {dialog.inferred.skipped > 0 ? ` (${dialog.inferred.skipped} skipped: not JSON objects)` : ''}; decoding{' '}
              <code>{dialog.inferred.decode}</code>.
            </p>
            <pre className="ex-schema" data-testid="inferred-schema">
              {JSON.stringify(dialog.inferred.schema, null, 2)}
            </pre>
          </>
        )}
        {plan && (
          <ol className="ex-plan small">
            <li>
              <b>mqtt-in</b> on <code>{plan.connectionId}</code>
              {plan.connectionAdded ? ' (added to the flow)' : ''}, filter <code>{plan.filter}</code>, decoding{' '}
              <code>{String(plan.mqttIn['decoding'])}</code>
            </li>
            <li>
              <b>validate</b> with the schema above (invalid messages become dead letters)
            </li>
            <li>
              <b>sqlite-sink</b> into table <code>{plan.table}</code>
              {(plan.sink['columns'] as unknown[]).length > 0
                ? ` with ${(plan.sink['columns'] as unknown[]).length} mapped columns`
                : ''}
            </li>
          </ol>
        )}
        <div className="ex-modal-actions">
          <button type="button" onClick={closeFlowDialog}>
            Cancel
          </button>
          <button
            type="button"
            className="primary"
            disabled={!plan}
            onClick={() => plan && createFlowOnCanvas(plan)}
            data-testid="create-flow"
          >
            <Workflow size={14} /> Create on the canvas
          </button>
        </div>
      </div>
    </div>
  );
}
