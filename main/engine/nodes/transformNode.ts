import type { FlowMessage } from '../../../shared/message.js';
import { transformSpec } from '../../../shared/nodes/transform.js';
import { implement } from '../runtime/nodeRuntime.js';
import { OrderedResults } from '../runtime/orderedResults.js';
import {
  MAX_PENDING_EVALUATIONS,
  bindingsFor,
  checkExpression,
  compileExpression,
  describeJsonataError,
} from './jsonataExpression.js';

export const transformNode = implement({
  spec: transformSpec,
  check(config) {
    const problem = checkExpression(config.expression);
    return problem ? [{ path: '/expression', message: problem }] : [];
  },
  create(ctx) {
    const expression = compileExpression(ctx.config.expression);
    const out = ctx.output('out');
    const { whenEmpty } = ctx.config;
    const results = new OrderedResults<FlowMessage, unknown>(MAX_PENDING_EVALUATIONS, (message, value, error) => {
      if (error !== undefined) ctx.deadLetter(message, `transform failed: ${describeJsonataError(error)}`);
      else if (value !== undefined) out({ ...message, payload: value });
      else if (whenEmpty === 'dead-letter') ctx.deadLetter(message, 'transform yielded nothing');
      else ctx.counters.dropped++;
      message.delivery?.release();
    });
    // One evaluation at a time: evaluations are CPU-bound and JSONata's time limit runs from the
    // start of each, so a burst evaluated at once made every one wait for the others and fail as an
    // "Evaluation timeout" although none was slow. Each now starts when the one before settles.
    let previous: Promise<unknown> = Promise.resolve();
    return {
      onInput(message) {
        if (results.size >= MAX_PENDING_EVALUATIONS) {
          ctx.counters.dropped++;
          ctx.deadLetter(message, `transform backlog full (${MAX_PENDING_EVALUATIONS} evaluations pending)`);
          return;
        }
        const work = previous.then(() => expression.evaluate(message.payload, bindingsFor(message)));
        previous = work.catch(() => undefined);
        message.delivery?.hold();
        results.push(message, work);
      },
      pending: () => results.size,
      stop: () => results.idle(),
    };
  },
});
