import { filterSpec } from '../../../shared/nodes/filter.js';
import { implement } from '../runtime/nodeRuntime.js';
import {
  checkExpression,
  compileExpression,
  describeJsonataError,
  evaluateInOrder,
  isTruthy,
} from './jsonataExpression.js';

export const filterNode = implement({
  spec: filterSpec,
  check(config) {
    const problem = checkExpression(config.predicate);
    return problem ? [{ path: '/predicate', message: problem }] : [];
  },
  create(ctx) {
    const match = ctx.output('match');
    const otherwise = ctx.output('else');
    return evaluateInOrder(ctx, 'filter', compileExpression(ctx.config.predicate), (message, value, error) => {
      if (error !== undefined) ctx.deadLetter(message, `filter failed: ${describeJsonataError(error)}`);
      else if (isTruthy(value)) match(message);
      else otherwise(message);
    });
  },
});
