import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../domain/passwords.js';

/**
 * The bodies that carry a password. Apart from the others because the password rules' module
 * also hashes (node:crypto): the dashboard, which imports the other schema files' types, must
 * not pull it in.
 */

export const SignInBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'User name' }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);

export const SetPasswordBody = Type.Object({ password: Type.String({ maxLength: PASSWORD_MAX_LENGTH }) }, { additionalProperties: false });
