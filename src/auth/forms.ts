import { AppError, type FieldError } from '../errors/index.js';
import { isEmail } from '../records/validate.js';

/** An auth request's body (JSON or form), parsed by the route. */
export type Body = Record<string, unknown>;
export type FieldErrors = Record<string, FieldError>;
export type FormChecks = Record<string, { value: string; min?: number; max?: number; email?: boolean; required?: boolean }>;

const REQUIRED: FieldError = { code: 'validation_required', message: 'Cannot be blank.' };

export function text(body: Body, key: string): string {
  const v = body[key];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/**
 * PocketBase's form checks: required, length 1–255 (or min/max), email format. Like ozzo-validation,
 * the first failing check of each field, every field at once.
 */
export function formErrors(checks: FormChecks): FieldErrors {
  const errors: FieldErrors = {};
  for (const [key, c] of Object.entries(checks)) {
    const length = [...c.value].length;
    if (c.value === '') {
      if (c.required !== false) errors[key] = REQUIRED;
    } else if (c.email && !isEmail(c.value)) {
      errors[key] = { code: 'validation_is_email', message: 'Must be a valid email address.' };
    } else if (length < (c.min ?? 1) || length > (c.max ?? 255)) {
      errors[key] = { code: 'validation_length_out_of_range', message: `The length must be between ${c.min ?? 1} and ${c.max ?? 255}.` };
    }
  }
  return errors;
}

export function refuseIfAny(errors: FieldErrors): void {
  if (Object.keys(errors).length > 0) throw new AppError('auth_invalid_data', undefined, errors);
}

export function checkForm(checks: FormChecks): void {
  refuseIfAny(formErrors(checks));
}
