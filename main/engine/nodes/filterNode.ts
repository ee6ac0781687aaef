import type { FlowMessage } from '../../../shared/message.js';
import { filterSpec } from '../../../shared/nodes/filter.js';
import { implement } from '../runtime/nodeRuntime.js';
import { OrderedResults } from '../runtime/orderedResults.js';
import {
  MAX_PENDING_EVALUATIONS,
  bindingsFor,
  checkExpression,
  compileExpression,
  describeJsonataError,
  isTruthy,
} from './jsonataExpression.js';

export const filterNode = implement({
  spec: filterSpec,
  check(config) {
    const problem = checkExpression(config.predicate);
    return problem ? [{ path: '/predicate', message: problem }] : [];
  },
  create(ctx) {
    const predicate = compileExpression(ctx.config.predicate);
    const match = ctx.output('match');
    const otherwise = ctx.output('else');
    const results = new OrderedResults<FlowMessage, unknown>(MAX_PENDING_EVALUATIONS, (message, value, error) => {
      if (error !== undefined) ctx.deadLetter(message, `filter failed: ${describeJsonataError(error)}`);
      else if (isTruthy(value)) match(message);
      else otherwise(message);
      message.delivery?.release();
    });
    // One evaluation at a time, as in transform: the time limit must measure this predicate only.
    let previous: Promise<unknown> = Promise.resolve();
    return {
      onInput(message) {
        if (results.size >= MAX_PENDING_EVALUATIONS) {
          ctx.counters.dropped++;
          ctx.deadLetter(message, `filter backlog full (${MAX_PENDING_EVALUATIONS} evaluations pending)`);
          return;
        }
        const work = previous.then(() => predicate.evaluate(message.payload, bindingsFor(message)));
        previous = work.catch(() => undefined);
        message.delivery?.hold();
        results.push(message, work);
      },
      pending: () => results.size,
      stop: () => results.idle(),
    };
  },
});
