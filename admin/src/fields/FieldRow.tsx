import type { ComponentChildren } from 'preact';
import type { Field } from '../types';

export const controlId = (field: Field | string) => `f-${typeof field === 'string' ? field : field.name}`;
export const errorId = (field: Field | string) => `${controlId(field)}-error`;
export const hintId = (field: Field | string) => `${controlId(field)}-hint`;

/** aria-describedby for a control: its hint and its error, when present. */
export function describedBy(field: Field | string, error?: string, hint?: boolean): string | undefined {
  const ids = [hint ? hintId(field) : '', error ? errorId(field) : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

interface Props {
  field: Field;
  /** Hide the "required" marker (an id may be left empty on create: the server generates one). */
  optional?: boolean;
  /** The field's name is the label text; `group` renders a fieldset + legend instead of a label. */
  group?: boolean;
  error?: string;
  hint?: ComponentChildren;
  children: ComponentChildren;
  labelText?: string;
  labelId?: string;
}

/** Label (the field name), type, control, help text and the server's error message for one field. */
export function FieldRow({ field, optional, group, error, hint, children, labelText, labelId }: Props) {
  const name = labelText ?? field.name;
  const help = field.help ? <span class="field-help">{field.help}</span> : null;
  const meta = (
    <span class="field-meta" aria-hidden="true">
      {field.required && !optional ? <span class="req">required</span> : null}
      <span class="type">{field.type}</span>
    </span>
  );
  const tail = (
    <>
      {(hint || help) && (
        <p class="field-hint" id={hintId(field)}>
          {hint} {help}
        </p>
      )}
      {error && (
        <p class="field-error" id={errorId(field)} role="alert" data-testid={`field-error-${field.name}`}>
          {error}
        </p>
      )}
    </>
  );
  if (group) {
    return (
      <fieldset class={`field field-group ${error ? 'has-error' : ''}`} data-field={field.name} aria-describedby={describedBy(field, error, Boolean(hint || help))}>
        <legend id={labelId}>
          <span class="field-label">{name}</span>
        </legend>
        {meta}
        {children}
        {tail}
      </fieldset>
    );
  }
  return (
    <div class={`field ${error ? 'has-error' : ''}`} data-field={field.name}>
      <div class="field-head">
        <label for={controlId(field)} id={labelId} class="field-label">
          {name}
        </label>
        {meta}
      </div>
      {children}
      {tail}
    </div>
  );
}
