import { Type, type Static } from 'typebox';
import { SECRET_NAME_PATTERN, SECRET_VALUE_MAX_BYTES } from '../../domain/secret-fields.js';
import { Instant } from './common.js';

/** Agents' secrets (write-only): request and response schemas. No response schema has a value. */

export const SecretParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  name: Type.String({
    pattern: SECRET_NAME_PATTERN,
    description: 'The environment variable the secret becomes in runs: A-Z, 0-9 and _, not starting with a digit, at most 64; not a reserved name',
  }),
});

export const SetSecretBody = Type.Object(
  {
    value: Type.String({
      maxLength: SECRET_VALUE_MAX_BYTES,
      description: 'At most 64 KiB of UTF-8. Write-only: stored encrypted, given to runs as an environment variable, never returned',
    }),
  },
  { additionalProperties: false },
);

export const SecretJson = Type.Object({ name: Type.String(), updatedAt: Instant }, { $id: 'Secret', description: 'A secret as listed: never its value' });
export type SecretJson = Static<typeof SecretJson>;

export const DeletedSecretJson = Type.Object({ name: Type.String() });
