import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ConfirmDialog } from '../components/Dialog';
import { FieldInput } from '../fields/FieldInput';
import { ignoreFileDrop } from '../fields/FileInput';
import { controlId, describedBy } from '../fields/FieldRow';
import { errorMessage, fieldErrors, isAbort, statusOf, type FieldErrors } from '../lib/errors';
import { relationNames } from '../lib/fields';
import { rememberFocus } from '../lib/focus';
import { toRequestBody } from '../lib/files';
import { buildPayload, editorFields, localErrors, PASSWORD_CONFIRM, toFormValues, type FormValue, type FormValues } from '../lib/form';
import { etagOf, pb } from '../lib/pb';
import type { Collection, RecordData } from '../types';
import { ConflictDialog } from './ConflictDialog';

export type EditorTarget = { mode: 'edit'; id: string } | { mode: 'create'; from?: RecordData };

interface Props {
  collection: Collection;
  collections: Collection[];
  target: EditorTarget;
  onClose: () => void;
  onSaved: (record: RecordData, created: boolean) => void;
  onDeleted: (id: string) => void;
  onDuplicate: (record: RecordData) => void;
}

/** A copy for "duplicate": no id, no files (stored files belong to their record), no password. */
function duplicateValues(collection: Collection, from: RecordData): FormValues {
  const values = toFormValues(collection, from);
  values['id'] = '';
  for (const f of collection.fields) if (f.type === 'file') values[f.name] = [];
  return values;
}

function expandedList(record: RecordData | null | undefined, name: string): RecordData[] {
  const e = record?.expand?.[name];
  return Array.isArray(e) ? e : e ? [e] : [];
}

/** Side panel that creates or edits one record; fields are generated from the collection's schema. */
export function RecordEditor({ collection, collections, target, onClose, onSaved, onDeleted, onDuplicate }: Props) {
  const mode = target.mode === 'edit' ? 'update' : 'create';
  const service = pb.collection(collection.name);
  // Autodate fields have no value before the record exists.
  const fields = useMemo(() => editorFields(collection).filter((f) => mode === 'update' || f.type !== 'autodate'), [collection, mode]);
  const expand = useMemo(() => relationNames(collection, collection.fields.map((f) => f.name)).join(','), [collection]);
  const readOnlyCollection = collection.type === 'view';

  const startValues = () => (target.mode === 'create' && target.from ? duplicateValues(collection, target.from) : toFormValues(collection, null));
  const [record, setRecord] = useState<RecordData | null>(target.mode === 'create' ? (target.from ?? null) : null);
  const [etag, setEtag] = useState<string | undefined>(undefined);
  const [initial, setInitial] = useState<FormValues>(startValues);
  const [values, setValues] = useState<FormValues>(startValues);
  const [loading, setLoading] = useState(target.mode === 'edit');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [conflict, setConflict] = useState<{ server: RecordData; body: Record<string, unknown> } | null>(null);
  const [formKey, setFormKey] = useState(0);
  const panel = useRef<HTMLElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const recordId = target.mode === 'edit' ? target.id : null;

  const adopt = (rec: RecordData) => {
    const v = toFormValues(collection, rec);
    setRecord(rec);
    setEtag(etagOf(rec));
    setInitial(v);
    setValues(v);
    setErrors({});
    setFormKey((k) => k + 1);
  };

  // Edit: load the record fresh (for its ETag, and the expanded relations for their labels).
  useEffect(() => {
    if (!recordId) return;
    let live = true;
    setLoading(true);
    service
      .getOne<RecordData>(recordId, { ...(expand ? { expand } : {}), cache: 'no-store', requestKey: `editor-${collection.id}` })
      .then((rec) => {
        if (!live) return;
        adopt(rec);
        setLoadError(null);
      })
      .catch((err: unknown) => {
        if (live && !isAbort(err)) setLoadError(errorMessage(err));
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [recordId, collection.id]);

  // Focus moves into the panel; Escape closes it (unless a dialog above it is open).
  useEffect(() => {
    const giveFocusBack = rememberFocus(target.mode === 'edit' ? `open-${target.id}` : undefined);
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      if (document.querySelector('dialog[open]')) return;
      e.preventDefault();
      onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      giveFocusBack();
    };
  }, []);

  const setValue = (name: string, value: FormValue) => {
    setValues((v) => ({ ...v, [name]: value }));
    setInfo(null);
  };

  const send = async (body: Record<string, unknown>, ifMatch: string | undefined) => {
    setSaving(true);
    setFormError(null);
    try {
      const options = { ...(expand ? { expand } : {}), requestKey: null, ...(ifMatch ? { headers: { 'If-Match': ifMatch } } : {}) };
      const request = toRequestBody(body);
      const saved = mode === 'create' ? await service.create<RecordData>(request, options) : await service.update<RecordData>(recordId!, request, options);
      setConflict(null);
      onSaved(saved, mode === 'create');
    } catch (err) {
      if (mode === 'update' && statusOf(err) === 412) {
        try {
          const server = await service.getOne<RecordData>(recordId!, { ...(expand ? { expand } : {}), cache: 'no-store', requestKey: null });
          setConflict({ server, body });
        } catch (loadErr) {
          setConflict(null);
          setFormError(statusOf(loadErr) === 404 ? 'This record was deleted on the server.' : errorMessage(loadErr));
        }
      } else {
        setConflict(null);
        setErrors(fieldErrors(err));
        setFormError(errorMessage(err));
      }
    } finally {
      setSaving(false);
    }
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (saving || loading || readOnlyCollection) return;
    setInfo(null);
    const local = localErrors(collection, values);
    if (Object.keys(local).length) {
      setErrors(local);
      setFormError('Fix the highlighted fields first.');
      return;
    }
    const body = buildPayload(collection, values, initial, mode);
    if (mode === 'update' && !Object.keys(body).length) {
      setErrors({});
      setFormError(null);
      setInfo('Nothing changed.');
      return;
    }
    setErrors({});
    await send(body, mode === 'update' ? etag : undefined);
  };

  const remove = async () => {
    if (!recordId) return;
    setSaving(true);
    try {
      await service.delete(recordId, { requestKey: null });
      setConfirmDelete(false);
      onDeleted(recordId);
    } catch (err) {
      setConfirmDelete(false);
      setFormError(errorMessage(err));
    } finally {
      setSaving(false);
    }
  };

  const title = mode === 'create' ? (target.mode === 'create' && target.from ? `Duplicate ${collection.name} record` : `New ${collection.name} record`) : `Edit ${collection.name} record`;
  const shownNames = new Set([...fields.map((f) => f.name), PASSWORD_CONFIRM]);
  const otherErrors = Object.entries(errors).filter(([name]) => !shownNames.has(name));
  const isAuth = collection.type === 'auth';

  return (
    <aside class="editor-panel" ref={panel} aria-labelledby="editor-title" data-testid="record-editor" onDragOver={ignoreFileDrop} onDrop={ignoreFileDrop}>
      <div class="editor-head">
        <h2 id="editor-title" ref={heading} tabIndex={-1}>
          {title}
        </h2>
        <button type="button" class="btn btn-ghost btn-small" onClick={onClose} aria-label="Close editor" data-testid="editor-close">
          ×
        </button>
      </div>
      {recordId && (
        <p class="muted small editor-sub">
          <span class="mono" data-testid="editor-record-id">
            {recordId}
          </span>
        </p>
      )}

      {loading ? (
        <p class="panel-message" aria-busy="true" data-testid="editor-loading">
          Loading record…
        </p>
      ) : loadError ? (
        <div class="panel-message error" role="alert" data-testid="editor-load-error">
          <p>{loadError}</p>
        </div>
      ) : (
        <form class="editor-form" onSubmit={save} noValidate data-testid="record-form" key={formKey}>
          <fieldset class="editor-fields" disabled={readOnlyCollection}>
            <legend class="sr-only">{collection.name} fields</legend>
            {readOnlyCollection && <p class="muted small">View collections are read-only.</p>}
            {fields.map((field) => (
              <div key={field.name}>
                <FieldInput
                  field={field}
                  value={values[field.name]}
                  onChange={(v) => setValue(field.name, v)}
                  error={errors[field.name]}
                  mode={mode}
                  collections={collections}
                  related={expandedList(record, field.name)}
                  record={mode === 'update' ? record : null}
                />
                {field.type === 'password' && isAuth && (
                  <div class={`field ${errors[PASSWORD_CONFIRM] ? 'has-error' : ''}`} data-field={PASSWORD_CONFIRM}>
                    <div class="field-head">
                      <label for={controlId(PASSWORD_CONFIRM)} class="field-label">
                        {PASSWORD_CONFIRM}
                      </label>
                    </div>
                    <input
                      id={controlId(PASSWORD_CONFIRM)}
                      type="password"
                      autoComplete="new-password"
                      value={String(values[PASSWORD_CONFIRM] ?? '')}
                      onInput={(e) => setValue(PASSWORD_CONFIRM, e.currentTarget.value)}
                      aria-invalid={Boolean(errors[PASSWORD_CONFIRM])}
                      aria-describedby={describedBy(PASSWORD_CONFIRM, errors[PASSWORD_CONFIRM])}
                      data-testid={`field-${PASSWORD_CONFIRM}`}
                    />
                    {errors[PASSWORD_CONFIRM] && (
                      <p class="field-error" id={`${controlId(PASSWORD_CONFIRM)}-error`} role="alert" data-testid={`field-error-${PASSWORD_CONFIRM}`}>
                        {errors[PASSWORD_CONFIRM]}
                      </p>
                    )}
                  </div>
                )}
              </div>
            ))}
          </fieldset>

          <div class="editor-footer">
            {formError && (
              <div class="form-error" role="alert" data-testid="editor-error">
                <p>{formError}</p>
                {otherErrors.length > 0 && (
                  <ul>
                    {otherErrors.map(([name, message]) => (
                      <li key={name}>
                        {name}: {message}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            )}
            {info && (
              <p class="notice" role="status" data-testid="editor-info">
                {info}
              </p>
            )}
            <div class="editor-actions">
              {mode === 'update' && !readOnlyCollection && (
                <>
                  <button type="button" class="btn btn-danger-ghost" onClick={() => setConfirmDelete(true)} disabled={saving} data-testid="record-delete">
                    Delete
                  </button>
                  <button type="button" class="btn" onClick={() => record && onDuplicate(record)} disabled={saving || !record} data-testid="record-duplicate">
                    Duplicate
                  </button>
                </>
              )}
              <span class="topbar-spacer" />
              <button type="button" class="btn" onClick={onClose} data-testid="record-cancel">
                Cancel
              </button>
              {!readOnlyCollection && (
                <button type="submit" class="btn btn-primary" disabled={saving} data-testid="record-save">
                  {saving ? 'Saving…' : mode === 'create' ? 'Create' : 'Save'}
                </button>
              )}
            </div>
          </div>
        </form>
      )}

      <ConfirmDialog
        open={confirmDelete}
        title="Delete record?"
        message={
          <p>
            Delete record <strong class="mono">{recordId}</strong> from <strong>{collection.name}</strong>? This cannot be undone.
          </p>
        }
        confirmLabel="Delete"
        danger
        busy={saving}
        onConfirm={remove}
        onCancel={() => setConfirmDelete(false)}
      />

      {conflict && record && (
        <ConflictDialog
          collection={collection}
          base={record}
          server={conflict.server}
          values={values}
          initial={initial}
          busy={saving}
          onCancel={() => setConflict(null)}
          onReload={() => {
            adopt(conflict.server);
            setConflict(null);
            setFormError(null);
            setInfo('Reloaded the server version.');
          }}
          onOverwrite={() => void send(conflict.body, etagOf(conflict.server))}
        />
      )}
    </aside>
  );
}
