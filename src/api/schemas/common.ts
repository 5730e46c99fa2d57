import { Type, type Static, type TSchema } from 'typebox';
import { ROLES } from '../../domain/types.js';

/** A string enum as plain JSON Schema (`{"type":"string","enum":[...]}`), typed as the union. */
export const StringEnum = <T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

export const NonBlank = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, pattern: '\\S', description });

export const Instant = Type.String({ format: 'date-time' });

/**
 * A response field that may be null, as OpenAPI 3.0's `nullable` (not `anyOf` with null: the
 * serializer would test every branch of an anyOf on every response).
 */
export const OrNull = <T extends TSchema>(schema: T, options: { description?: string } = {}) =>
  Type.Unsafe<Static<T> | null>({ ...schema, ...options, nullable: true });

export const NullableInstant = OrNull(Instant);

/** `:id` of a route: any id the router will pass (ids over the limit are a 414 before this). */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    }),
  },
  { $id: 'Error', description: 'Every error response' },
);

export const RoleField = StringEnum(ROLES);

/** `{"data": ...}`, the envelope of every successful response but run and cancel. */
export const Data = <T extends Parameters<typeof Type.Object>[0][string]>(schema: T) => Type.Object({ data: schema });
