import { Dialog } from '../components/Dialog';
import { displayValue } from '../lib/format';
import { editorFields, sameValue, toApiValue, type FormValues } from '../lib/form';
import type { Collection, Field, RecordData } from '../types';

interface Props {
  collection: Collection;
  /** The record as it was when editing started. */
  base: RecordData;
  /** The record as it is on the server now. */
  server: RecordData;
  values: FormValues;
  initial: FormValues;
  busy: boolean;
  onReload: () => void;
  onOverwrite: () => void;
  onCancel: () => void;
}

interface Row {
  field: Field;
  mine: string;
  theirs: string;
  byMe: boolean;
  byServer: boolean;
}

function safeApiValue(field: Field, value: unknown): unknown {
  try {
    return toApiValue(field, value);
  } catch {
    return value;
  }
}

export function conflictRows(collection: Collection, base: RecordData, server: RecordData, values: FormValues, initial: FormValues): Row[] {
  const rows: Row[] = [];
  for (const field of editorFields(collection)) {
    if (field.type === 'autodate') continue;
    const byMe = field.type === 'password' ? Boolean(values[field.name]) : !sameValue(values[field.name], initial[field.name]);
    const byServer = field.type !== 'password' && !sameValue(base[field.name], server[field.name]);
    if (!byMe && !byServer) continue;
    const mine = field.type === 'password' ? '(new password)' : displayValue(field, byMe ? safeApiValue(field, values[field.name]) : base[field.name], 200);
    const theirs = field.type === 'password' ? '' : displayValue(field, server[field.name], 200);
    rows.push({ field, mine, theirs, byMe, byServer });
  }
  return rows;
}

/** 412 on save: what changed on the server and what the user changed, field by field. */
export function ConflictDialog({ collection, base, server, values, initial, busy, onReload, onOverwrite, onCancel }: Props) {
  const rows = conflictRows(collection, base, server, values, initial);
  return (
    <Dialog open title="This record changed on the server" onClose={onCancel} testid="conflict-dialog" class="dialog-wide">
      <div class="dialog-body">
        <p>Someone saved this record after you opened it. Compare the values, then keep the server's version or save yours over it.</p>
        <div class="table-wrap">
          <table class="conflict-table">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Your edit</th>
                <th scope="col">On the server now</th>
                <th scope="col">Changed by</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.field.name} data-testid={`conflict-row-${r.field.name}`} class={r.byMe && r.byServer ? 'both' : ''}>
                  <th scope="row">{r.field.name}</th>
                  <td class={r.byMe ? 'changed' : ''}>{r.mine}</td>
                  <td class={r.byServer ? 'changed' : ''}>{r.theirs}</td>
                  <td>{r.byMe && r.byServer ? 'both' : r.byMe ? 'you' : 'server'}</td>
                </tr>
              ))}
              {!rows.length && (
                <tr>
                  <td colSpan={4}>No field differs (only the record version changed).</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <p class="muted small">“Overwrite” saves the fields you changed over the server's version; fields you did not change keep the server's values.</p>
      </div>
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={onCancel} data-testid="conflict-cancel">
          Cancel
        </button>
        <button type="button" class="btn" onClick={onReload} disabled={busy} data-testid="conflict-reload">
          Reload (discard mine)
        </button>
        <button type="button" class="btn btn-danger" onClick={onOverwrite} disabled={busy} data-testid="conflict-overwrite">
          Overwrite
        </button>
      </div>
    </Dialog>
  );
}
