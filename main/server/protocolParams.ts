/** Checks of protocol request parameters, and the failure they throw (an `invalid-params` answer). */
import type { FlowProblem } from '../../shared/flow/validateFlow.js';
import type { ErrorCode } from '../../shared/protocol/protocol.js';

/** A failure the caller should see as `{ ok: false, error }`. */
export class ProtocolFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly problems?: readonly FlowProblem[],
  ) {
    super(message);
    this.name = 'ProtocolFailure';
  }
}

export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

export function requiredString(p: Record<string, unknown>, key: string): string {
  const value = p[key];
  if (typeof value !== 'string' || value === '') {
    throw new ProtocolFailure('invalid-params', `"${key}" must be a non-empty string`);
  }
  return value;
}

export function optionalString(p: Record<string, unknown>, key: string): string | undefined {
  return p[key] === undefined ? undefined : requiredString(p, key);
}

export function optionalInt(p: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = p[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ProtocolFailure('invalid-params', `"${key}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function flowName(p: Record<string, unknown>): string {
  return requiredString(p, 'name');
}

export function optionalBoolean(p: Record<string, unknown>, key: string): boolean | undefined {
  const value = p[key];
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ProtocolFailure('invalid-params', `"${key}" must be true or false`);
  }
  return value;
}

export function document(p: Record<string, unknown>): unknown {
  if (!('document' in p)) throw new ProtocolFailure('invalid-params', '"document" is missing');
  return p['document'];
}
