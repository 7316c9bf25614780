/**
 * Typed errors. Domain code throws AppError subclasses carrying a stable `code`
 * and an HTTP-ish `status`; http/error-handler.ts is the only place that
 * serializes them. The catalogue below is the single list of codes (the README
 * error table is checked against it by a test). Retired codes are never reused.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, message: 'Something went wrong while processing your request.' },
  not_found: { status: 404, message: "The requested resource wasn't found." },
  forbidden: { status: 403, message: 'Only superusers can perform this action.' },
  unauthorized: { status: 401, message: 'The request requires valid record authorization token.' },
  request_too_large: { status: 413, message: 'Request entity too large.' },
  request_header_too_large: { status: 431, message: 'Request header fields too large (the URL and headers may hold 64 KiB).' },
  collection_not_found: { status: 404, message: 'Missing collection context.' },
  invalid_body: { status: 400, message: 'Failed to load the submitted data due to invalid formatting.' },
  invalid_filter: { status: 400, message: 'Invalid filter.' },
  invalid_sort: { status: 400, message: 'Invalid sort.' },
  invalid_expand: { status: 400, message: 'Invalid expand.' },
  invalid_fields: { status: 400, message: 'Invalid fields.' },
  invalid_query: { status: 400, message: 'Invalid query parameter.' },
  filter_forbidden: { status: 403, message: 'Only superusers can filter by @request. or @collection.' },
  unsupported_collection_type: { status: 400, message: 'Unsupported collection type.' },
  create_failed: { status: 400, message: 'Failed to create record.' },
  update_failed: { status: 400, message: 'Failed to update record.' },
  delete_failed: { status: 400, message: 'Failed to delete record. Make sure that the record is not part of a required relation reference.' },
  precondition_failed: { status: 412, message: 'The record was changed since you read it (If-Match does not match its ETag).' },
  idempotency_conflict: { status: 409, message: 'This Idempotency-Key was already used with a different request.' },
  idempotency_in_progress: { status: 409, message: 'A request with this Idempotency-Key is still being processed.' },
  write_conflict: { status: 409, message: 'The write conflicted with concurrent writes and was not saved; retry the request.' },
  batch_invalid: { status: 400, message: 'Invalid batch request data.' },
  batch_failed: { status: 400, message: 'Batch transaction failed.' },
  auth_collection_not_found: { status: 404, message: 'Missing or invalid auth collection context.' },
  auth_invalid_data: { status: 400, message: 'An error occurred while validating the submitted data.' },
  auth_failed: { status: 400, message: 'Failed to authenticate.' },
  auth_method_disabled: { status: 403, message: 'The collection is not configured to allow this authentication method.' },
  auth_rule_refused: { status: 403, message: "The request doesn't satisfy the collection requirements to authenticate." },
  auth_other_collection: { status: 403, message: 'The authorized record is not allowed to perform this action.' },
  otp_invalid: { status: 400, message: 'Invalid or expired OTP.' },
  mfa_invalid: { status: 400, message: 'Invalid or expired MFA session.' },
  mfa_same_method: { status: 400, message: 'A different authentication method is required.' },
  rate_limited: { status: 429, message: 'Too Many Requests.' },
  query_timeout: { status: 503, message: 'The query took longer than the server allows; narrow the filter, sort or expand, or retry later.' },
  overloaded: { status: 503, message: 'The server is busy; retry shortly.' },
  hook_error: { status: 400, message: 'The request was refused by a hook.' },
  internal: { status: 500, message: 'Something went wrong while processing your request.' },
  invalid_config: { status: 500, message: 'Invalid configuration.' },
  invalid_collections: { status: 400, message: 'Invalid collection files.' },
  migration_refused: { status: 409, message: 'The migration plan contains destructive steps.' },
  migration_failed: { status: 500, message: 'The migration failed and was rolled back.' },
  import_conflict: { status: 409, message: 'Refusing to overwrite existing files.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Per-field error detail, PocketBase style: `{ code, message }`. */
export interface FieldError {
  code: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly data: Record<string, unknown>;

  /** `options.status` only for `hook_error`: the status a hook's ApiError chose. */
  constructor(code: ErrorCode, message?: string, data: Record<string, unknown> = {}, options?: { cause?: unknown; status?: number }) {
    super(message ?? ERROR_CODES[code].message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = code === 'hook_error' && options?.status ? options.status : ERROR_CODES[code].status;
    this.data = data;
  }
}

/** One problem in one collection file: rendered as `file: /pointer: message`. */
export interface FileProblem {
  file: string;
  pointer: string;
  message: string;
}

export function formatProblem(p: FileProblem): string {
  return `${p.file}: ${p.pointer || '/'}: ${p.message}`;
}

/** Collection files that cannot be loaded; the CLI prints one line per problem and exits 2. */
export class InvalidCollectionsError extends AppError {
  readonly problems: FileProblem[];
  constructor(problems: FileProblem[]) {
    super('invalid_collections', problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

export class ConfigError extends AppError {
  constructor(message: string) {
    super('invalid_config', message);
  }
}
