import { localInputToPb, localOffsetLabel } from '../lib/dates';
import { isMultiple } from '../lib/fields';
import { jsonError, type FormValue, type GeoValue } from '../lib/form';
import type { Collection, Field, RecordData } from '../types';
import { controlId, describedBy, FieldRow } from './FieldRow';
import { FileInput } from './FileInput';
import { RelationPicker } from './RelationPicker';
import { RichText } from './RichText';

export interface FieldInputProps {
  field: Field;
  value: FormValue;
  onChange: (value: FormValue) => void;
  error?: string;
  mode: 'create' | 'update';
  collections: Collection[];
  /** Expanded related records (relation labels). */
  related?: RecordData[];
  /** The stored record (file previews and links); null while creating. */
  record?: RecordData | null;
}

const text = (v: FormValue) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const list = (v: FormValue) => (Array.isArray(v) ? (v as string[]) : []);

function ReadOnly({ field, value, note }: { field: Field; value: string; note?: string }) {
  return (
    <FieldRow field={field} hint={note}>
      <input id={controlId(field)} type="text" value={value} readOnly class="readonly" aria-describedby={note ? `${controlId(field)}-hint` : undefined} data-testid={`field-${field.name}`} />
    </FieldRow>
  );
}

export function FieldInput(props: FieldInputProps) {
  const { field, value, onChange, error, mode } = props;
  const id = controlId(field);
  const common = {
    id,
    name: field.name,
    'aria-invalid': Boolean(error),
    'aria-describedby': describedBy(field, error),
    'data-testid': `field-${field.name}`,
  };

  if (field.name === 'id' && mode === 'update') return <ReadOnly field={field} value={text(value)} />;

  switch (field.type) {
    case 'autodate':
      return <ReadOnly field={field} value={text(value)} note={mode === 'create' ? 'Set by the server.' : 'Set by the server (UTC).'} />;

    case 'file':
      return <FileInput field={field} value={value} onChange={onChange} error={error} record={props.record ?? null} />;

    case 'bool':
      return (
        <div class={`field field-check ${error ? 'has-error' : ''}`} data-field={field.name}>
          <label class="check">
            <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} />
            <span class="field-label">{field.name}</span>
          </label>
          {field.help && <p class="field-hint">{field.help}</p>}
          {error && (
            <p class="field-error" id={`${id}-error`} role="alert" data-testid={`field-error-${field.name}`}>
              {error}
            </p>
          )}
        </div>
      );

    case 'number':
      return (
        <FieldRow field={field} error={error}>
          <input
            type="number"
            {...common}
            value={text(value)}
            step={field.onlyInt ? 1 : 'any'}
            min={field.min ?? undefined}
            max={field.max ?? undefined}
            onInput={(e) => onChange(e.currentTarget.value)}
          />
        </FieldRow>
      );

    case 'email':
    case 'url':
      return (
        <FieldRow field={field} error={error}>
          {field.type === 'email' ? (
            <input type="email" {...common} value={text(value)} onInput={(e) => onChange(e.currentTarget.value)} autoComplete="off" />
          ) : (
            <input type="url" {...common} value={text(value)} onInput={(e) => onChange(e.currentTarget.value)} autoComplete="off" />
          )}
        </FieldRow>
      );

    case 'password':
      // The confirmation input is rendered by the editor right after this one.
      return (
        <FieldRow field={field} error={error} hint={mode === 'update' ? 'Leave empty to keep the current password.' : undefined}>
          <input type="password" {...common} aria-describedby={describedBy(field, error, mode === 'update')} value={text(value)} onInput={(e) => onChange(e.currentTarget.value)} autoComplete="new-password" />
        </FieldRow>
      );

    case 'date': {
      const local = text(value);
      const utc = localInputToPb(local);
      return (
        <FieldRow field={field} error={error} hint={`Local time (${localOffsetLabel()})${utc ? ` · stored as ${utc}` : ''}`}>
          <div class="inline">
            <input type="datetime-local" step="1" {...common} aria-describedby={describedBy(field, error, true)} value={local} onInput={(e) => onChange(e.currentTarget.value)} />
            {local && (
              <button type="button" class="btn btn-small btn-ghost" onClick={() => onChange('')} aria-label={`Clear ${field.name}`}>
                Clear
              </button>
            )}
          </div>
        </FieldRow>
      );
    }

    case 'select': {
      if (isMultiple(field)) {
        const chosen = list(value);
        const toggle = (v: string, on: boolean) => onChange(on ? field.values.filter((x) => x === v || chosen.includes(x)) : chosen.filter((x) => x !== v));
        return (
          <FieldRow field={field} error={error} group hint={`Up to ${field.maxSelect}.`}>
            <div class="check-list" data-testid={`field-${field.name}`}>
              {field.values.map((v) => (
                <label class="check" key={v}>
                  <input type="checkbox" name={field.name} value={v} checked={chosen.includes(v)} onChange={(e) => toggle(v, e.currentTarget.checked)} />
                  <span>{v}</span>
                </label>
              ))}
            </div>
          </FieldRow>
        );
      }
      const current = text(value);
      return (
        <FieldRow field={field} error={error}>
          <select {...common} value={current} onChange={(e) => onChange(e.currentTarget.value)}>
            <option value="">—</option>
            {field.values.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
            {current && !field.values.includes(current) && <option value={current}>{current} (not an allowed value)</option>}
          </select>
        </FieldRow>
      );
    }

    case 'json': {
      const problem = jsonError(text(value));
      const shown = problem ?? error;
      return (
        <FieldRow field={field} error={shown} hint="JSON; empty = null.">
          <textarea {...common} aria-invalid={Boolean(shown)} aria-describedby={describedBy(field, shown, true)} class="mono" rows={6} spellcheck={false} value={text(value)} onInput={(e) => onChange(e.currentTarget.value)} />
        </FieldRow>
      );
    }

    case 'editor':
      return <RichText field={field} value={text(value)} onChange={onChange} error={error} />;

    case 'relation':
      return <RelationPicker field={field} value={value} onChange={onChange} error={error} collections={props.collections} related={props.related ?? []} />;

    case 'geoPoint': {
      const geo = (value ?? { lon: '0', lat: '0' }) as GeoValue;
      return (
        <FieldRow field={field} error={error} group>
          <div class="inline">
            <label class="inline-label">
              <span>lon</span>
              <input type="number" step="any" min={-180} max={180} value={geo.lon} onInput={(e) => onChange({ ...geo, lon: e.currentTarget.value })} data-testid={`field-${field.name}-lon`} />
            </label>
            <label class="inline-label">
              <span>lat</span>
              <input type="number" step="any" min={-90} max={90} value={geo.lat} onInput={(e) => onChange({ ...geo, lat: e.currentTarget.value })} data-testid={`field-${field.name}-lat`} />
            </label>
          </div>
        </FieldRow>
      );
    }

    case 'text':
    default: {
      const isId = field.name === 'id';
      const long = field.type === 'text' && field.max > 255;
      const placeholder = isId ? 'Leave empty to generate one' : undefined;
      return (
        <FieldRow field={field} error={error} optional={isId}>
          {long ? (
            <textarea {...common} rows={3} value={text(value)} onInput={(e) => onChange(e.currentTarget.value)} />
          ) : (
            <input type="text" {...common} value={text(value)} placeholder={placeholder} onInput={(e) => onChange(e.currentTarget.value)} autoComplete="off" />
          )}
        </FieldRow>
      );
    }
  }
}
