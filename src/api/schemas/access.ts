import { Type, type Static } from 'typebox';
import { Instant, RoleField } from './common.js';

/** Users and API tokens: request and response schemas (the password body is in passwords.ts). */

export const UserJson = Type.Object({ id: Type.String(), name: Type.String(), role: RoleField, createdAt: Instant });
export type UserJson = Static<typeof UserJson>;

export const CreateUserBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._@-]+$' }), role: RoleField },
  { additionalProperties: false },
);

export const PasswordSetJson = Type.Object({ id: Type.String(), passwordSet: Type.Boolean() });

export const TokenJson = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  userName: Type.String(),
  label: Type.String(),
  prefix: Type.String({ description: 'The first characters of the token' }),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});
export type TokenJson = Static<typeof TokenJson>;

export const CreateTokenBody = Type.Object(
  {
    user: Type.String({ minLength: 1, maxLength: 100, description: 'User name' }),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const IssuedTokenJson = Type.Object({ token: Type.String(), info: TokenJson });

export const RevokedTokenJson = Type.Object({ id: Type.String(), revoked: Type.Boolean() });
