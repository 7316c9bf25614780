import { AUTH_REQUIRED, GUEST_OR_AUTH, json, ref, schemaRef } from './components.js';
import type { JsonSchema } from './field-schemas.js';
import type { CollectionShape } from './shape.js';

type Operation = Record<string, unknown>;

const text = (description?: string): JsonSchema => ({ type: 'string', ...(description ? { description } : {}) });
const body = (properties: Record<string, JsonSchema>, required: string[]) => ({
  required: true,
  content: json({ type: 'object', required, additionalProperties: false, properties }),
});
const noContent = { 204: { description: 'Done (no body).' } };
const errors = (...kinds: string[]) => Object.fromEntries(kinds.map((k) => [STATUS[k], ref('responses', k)]));
const STATUS: Record<string, number> = { AuthInvalid: 400, Unauthorized: 401, AuthForbidden: 403, AuthNotFound: 404, TooManyRequests: 429 };

/** Schemas the auth endpoints share across collections. */
export function authComponents() {
  return {
    schemas: {
      AuthMethods: {
        type: 'object',
        description: 'What the collection offers on a sign-in screen.',
        required: ['password', 'oauth2', 'mfa', 'otp'],
        properties: {
          password: { type: 'object', required: ['enabled', 'identityFields'], properties: { enabled: { type: 'boolean' }, identityFields: { type: 'array', items: { type: 'string' } } } },
          oauth2: { type: 'object', required: ['enabled', 'providers'], properties: { enabled: { type: 'boolean' }, providers: { type: 'array', items: { type: 'object' } } } },
          mfa: { type: 'object', required: ['enabled', 'duration'], properties: { enabled: { type: 'boolean' }, duration: { type: 'integer' } } },
          otp: { type: 'object', required: ['enabled', 'duration'], properties: { enabled: { type: 'boolean' }, duration: { type: 'integer' } } },
          authProviders: { type: 'array', items: { type: 'object' }, description: 'Legacy (PocketBase < 0.23).' },
          usernamePassword: { type: 'boolean', description: 'Legacy (PocketBase < 0.23).' },
          emailPassword: { type: 'boolean', description: 'Legacy (PocketBase < 0.23).' },
        },
      },
      MfaRequired: {
        type: 'object',
        description: 'The first of two sign-in steps passed: repeat the sign-in with another method and this `mfaId`.',
        required: ['mfaId'],
        additionalProperties: false,
        properties: { mfaId: { type: 'string' } },
      },
      OtpSent: { type: 'object', required: ['otpId'], additionalProperties: false, properties: { otpId: { type: 'string', description: 'Send it back with the code to `auth-with-otp` (an unknown email gets a decoy).' } } },
    },
    responses: {
      AuthInvalid: errorResponse('The body failed validation (`data.<field>` says why), or the sign-in failed', ['auth_invalid_data', 'auth_failed', 'otp_invalid', 'mfa_invalid', 'mfa_same_method']),
      AuthForbidden: errorResponse('Not allowed', ['auth_method_disabled', 'auth_rule_refused', 'auth_other_collection', 'forbidden']),
      AuthNotFound: errorResponse('Not an auth collection, or no such record', ['auth_collection_not_found', 'not_found']),
    },
  };
}

function errorResponse(description: string, codes: string[]) {
  return { description: `${description} (\`code\`: ${codes.map((c) => `\`${c}\``).join(', ')}).`, content: json(schemaRef('Error')) };
}

/** The auth endpoints of one auth collection (§7.1), only those its options enable. */
export function authPaths(shape: CollectionShape): Record<string, Record<string, unknown>> {
  const auth = shape.auth!;
  const name = shape.collection.name;
  const base = `/api/collections/${name}`;
  const tags = [name];
  const signedIn = { 200: { description: 'Signed in: the record (with its email) and a token.', content: json(schemaRef(`${shape.typeName}AuthResponse`)) } };
  const mfa = auth.mfa ? { 401: { description: 'MFA: the first method passed; finish with a second one and `mfaId`.', content: json(schemaRef('MfaRequired')) } } : {};
  const mfaId: Record<string, JsonSchema> = auth.mfa ? { mfaId: text('The `mfaId` from the first step of an MFA sign-in.') } : {};
  const picks = [ref('parameters', 'expand'), ref('parameters', 'fields')];
  const op = (id: string, summary: string, rest: Operation): Operation => ({ operationId: `${name}.${id}`, tags, summary, security: GUEST_OR_AUTH, ...rest });
  const paths: Record<string, Record<string, unknown>> = {};
  const post = (path: string, operation: Operation) => (paths[`${base}/${path}`] = { post: operation });

  paths[`${base}/auth-methods`] = {
    get: op('authMethods', `Sign-in methods of ${name}`, {
      parameters: [ref('parameters', 'fields')],
      responses: { 200: { description: 'The enabled methods.', content: json(schemaRef('AuthMethods')) }, ...errors('AuthNotFound') },
    }),
  };
  if (auth.passwordAuth) {
    post(
      'auth-with-password',
      op('authWithPassword', `Sign in to ${name} with a password`, {
        description: `\`identity\` is matched against ${auth.identityFields.map((f) => `\`${f}\``).join(', ')}. An unknown identity and a wrong password get the same answer.`,
        parameters: picks,
        requestBody: body({ identity: text(), password: text(), identityField: { type: 'string', enum: auth.identityFields }, ...mfaId }, ['identity', 'password']),
        responses: { ...signedIn, ...mfa, ...errors('AuthInvalid', 'AuthForbidden', 'AuthNotFound', 'TooManyRequests') },
      }),
    );
  }
  post(
    'auth-refresh',
    op('authRefresh', `Renew a ${name} token`, {
      description: 'A new token for the signed-in record (an impersonation token comes back unchanged).',
      security: AUTH_REQUIRED,
      parameters: picks,
      responses: { ...signedIn, ...errors('Unauthorized', 'AuthForbidden', 'AuthNotFound', 'TooManyRequests') },
    }),
  );
  if (auth.otp) {
    post(
      'request-otp',
      op('requestOtp', `Email a one-time password (${name})`, {
        requestBody: body({ email: { type: 'string', format: 'email' } }, ['email']),
        responses: { 200: { description: 'The OTP id (sent even for an unknown email).', content: json(schemaRef('OtpSent')) }, ...errors('AuthInvalid', 'AuthForbidden', 'AuthNotFound', 'TooManyRequests') },
      }),
    );
    post(
      'auth-with-otp',
      op('authWithOtp', `Sign in to ${name} with a one-time password`, {
        parameters: picks,
        requestBody: body({ otpId: text(), password: text('The emailed code.'), ...mfaId }, ['otpId', 'password']),
        responses: { ...signedIn, ...mfa, ...errors('AuthInvalid', 'AuthForbidden', 'AuthNotFound', 'TooManyRequests') },
      }),
    );
  }
  if (!auth.superusers) {
    post('request-verification', op('requestVerification', `Email a verification link (${name})`, emailRequest('Always 204 for a well-formed email, known or not.')));
    post('confirm-verification', op('confirmVerification', `Confirm an email address (${name})`, tokenConfirm({ token: text() }, ['token'])));
  }
  if (auth.passwordAuth) {
    post('request-password-reset', op('requestPasswordReset', `Email a password-reset link (${name})`, emailRequest('Always 204 for a well-formed email, known or not.')));
    post(
      'confirm-password-reset',
      op('confirmPasswordReset', `Set a new password from a reset link (${name})`, tokenConfirm({ token: text(), password: text(), passwordConfirm: text() }, ['token', 'password', 'passwordConfirm'])),
    );
  }
  if (!auth.superusers) {
    post(
      'request-email-change',
      op('requestEmailChange', `Email a link to change the address (${name})`, {
        description: 'For the signed-in record of this collection; the link goes to the new address.',
        security: AUTH_REQUIRED,
        requestBody: body({ newEmail: { type: 'string', format: 'email' } }, ['newEmail']),
        responses: { ...noContent, ...errors('AuthInvalid', 'Unauthorized', 'AuthForbidden', 'AuthNotFound', 'TooManyRequests') },
      }),
    );
    post('confirm-email-change', op('confirmEmailChange', `Confirm a new email address (${name})`, tokenConfirm({ token: text(), password: text('The account password.') }, ['token', 'password'])));
  }
  paths[`${base}/impersonate/{id}`] = {
    parameters: [ref('parameters', 'recordId')],
    post: op('impersonate', `Sign in as a ${name} record (superusers)`, {
      description: 'A non-refreshable token for the record; superusers only.',
      security: AUTH_REQUIRED,
      parameters: picks,
      requestBody: { content: json({ type: 'object', additionalProperties: false, properties: { duration: { type: 'integer', minimum: 0, description: 'Token lifetime in seconds (0: the collection default).' } } }) },
      responses: { ...signedIn, ...errors('AuthInvalid', 'Unauthorized', 'AuthForbidden', 'AuthNotFound', 'TooManyRequests') },
    }),
  };
  return paths;
}

function emailRequest(description: string): Operation {
  return {
    description,
    requestBody: body({ email: { type: 'string', format: 'email' } }, ['email']),
    responses: { ...noContent, ...errors('AuthInvalid', 'AuthNotFound', 'TooManyRequests') },
  };
}

function tokenConfirm(properties: Record<string, JsonSchema>, required: string[]): Operation {
  return { requestBody: body(properties, required), responses: { ...noContent, ...errors('AuthInvalid', 'AuthNotFound', 'TooManyRequests') } };
}

/** `{record, token}`; an auth response always carries the email. */
export function authResponseSchema(shape: CollectionShape): JsonSchema {
  return {
    type: 'object',
    required: ['record', 'token'],
    additionalProperties: false,
    properties: {
      record: { allOf: [schemaRef(`${shape.typeName}Record`), { type: 'object', required: ['email'] }] },
      token: { type: 'string', description: 'A JWT: send it as the `Authorization` header.' },
    },
  };
}
