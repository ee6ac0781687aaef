import { transformSpec } from '../../../shared/nodes/transform.js';
import { withPayload } from '../../../shared/message.js';
import { implement } from '../runtime/nodeRuntime.js';
import { checkExpression, compileExpression, describeJsonataError, evaluateInOrder } from './jsonataExpression.js';

export const transformNode = implement({
  spec: transformSpec,
  check(config) {
    const problem = checkExpression(config.expression);
    return problem ? [{ path: '/expression', message: problem }] : [];
  },
  create(ctx) {
    const out = ctx.output('out');
    const { whenEmpty } = ctx.config;
    return evaluateInOrder(ctx, 'transform', compileExpression(ctx.config.expression), (message, value, error) => {
      if (error !== undefined) ctx.deadLetter(message, `transform failed: ${describeJsonataError(error)}`);
      else if (value !== undefined) out(withPayload(message, value));
      else if (whenEmpty === 'dead-letter') ctx.deadLetter(message, 'transform yielded nothing');
      else ctx.counters.dropped++;
    });
  },
});
