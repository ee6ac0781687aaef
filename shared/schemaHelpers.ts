import { Type, type SchemaOptions, type TUnsafe } from '@sinclair/typebox';

/** A string enum as plain JSON Schema `enum` (forms and docs read it better than anyOf/const). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** An integer enum (QoS levels, protocol versions). */
export function IntegerEnum<const T extends readonly number[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'integer', enum: [...values], ...options });
}

/** A JSON Schema supplied by the user (validated as a schema when the node is built). */
export function JsonSchemaValue(options: SchemaOptions = {}): TUnsafe<Record<string, unknown> | boolean> {
  return Type.Unsafe<Record<string, unknown> | boolean>({ type: ['object', 'boolean'], ...options });
}

export const IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_]*$';
