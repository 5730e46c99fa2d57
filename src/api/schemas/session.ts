import { Type, type Static } from 'typebox';
import { StringEnum } from './common.js';
import { UserJson } from './access.js';

/** Dashboard sign-in: response schemas (the sign-in body is in passwords.ts). */

export const SessionJson = Type.Object({
  user: UserJson,
  method: StringEnum(['session', 'token'] as const, { description: 'How this request was authenticated' }),
  csrfToken: Type.Union([Type.String(), Type.Null()], {
    description: 'Send as X-CSRF-Token on every non-GET request authenticated by the session cookie; null for bearer tokens',
  }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the session expires unless used; null for bearer tokens' }),
});
export type SessionJson = Static<typeof SessionJson>;

export const SignedOutJson = Type.Object({ signedOut: Type.Boolean({ description: 'false for a bearer token, which stays valid' }) });
