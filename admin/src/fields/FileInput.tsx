import { useEffect, useRef, useState } from 'preact/hooks';
import { useFileToken } from '../lib/fileToken';
import { addFiles, asItems, fileHint, isMultipleFile, itemKey, itemName, moveItem } from '../lib/files';
import type { FormValue } from '../lib/form';
import type { FileField, RecordData } from '../types';
import { FileItemRow, type FileAction } from './FileItemRow';
import { controlId, describedBy, FieldRow } from './FieldRow';

interface Props {
  field: FileField;
  value: FormValue;
  onChange: (value: FormValue) => void;
  error?: string;
  record: RecordData | null;
}

/** For the editor panel: files dropped next to a drop zone must not make the browser open them (leaving the form). */
export function ignoreFileDrop(e: DragEvent): void {
  if (Array.from(e.dataTransfer?.types ?? []).includes('Files')) e.preventDefault();
}

/** Where the focus goes after a list change: a button of an item, or the file input. */
type FocusTarget = { key: string; action: FileAction } | 'input' | null;

/**
 * A file field: its files (stored ones with a preview and links, queued ones marked new), buttons to
 * remove and reorder them, and a file input inside a drop zone. Nothing is uploaded before save.
 */
export function FileInput({ field, value, onChange, error, record }: Props) {
  const items = asItems(value);
  const multiple = isMultipleFile(field);
  const id = controlId(field);
  const full = multiple && items.length >= field.maxSelect;
  const token = useFileToken(field.protected && Boolean(record) && items.some((i) => i.kind === 'stored'));
  const [dragging, setDragging] = useState(false);
  const [note, setNote] = useState('');
  const [focusTarget, setFocusTarget] = useState<FocusTarget>(null);
  const list = useRef<HTMLOListElement>(null);
  const input = useRef<HTMLInputElement>(null);

  // Keyboard users stay on the item they moved, or land next to the one they removed.
  useEffect(() => {
    if (!focusTarget) return;
    setFocusTarget(null);
    if (focusTarget === 'input') {
      input.current?.focus();
      return;
    }
    const row = list.current?.querySelector(`[data-key="${CSS.escape(focusTarget.key)}"]`);
    const wanted = row?.querySelector<HTMLButtonElement>(`button[data-action="${focusTarget.action}"]:not(:disabled)`);
    (wanted ?? row?.querySelector<HTMLButtonElement>('button:not(:disabled)') ?? input.current)?.focus();
  }, [focusTarget]);

  const add = (files: File[]) => {
    if (!files.length || input.current?.closest('fieldset:disabled')) return;
    const { items: next, skipped } = addFiles(field, items, files);
    onChange(next);
    const added = files.filter((f) => !skipped.includes(f)).map((f) => f.name);
    const replaced = !multiple && items.length > 0;
    setNote(
      [
        added.length ? `${replaced ? 'Replaced with' : 'Added'} ${added.join(', ')} (uploaded on save).` : '',
        skipped.length ? `${multiple ? `At most ${field.maxSelect} files` : 'One file only'}: skipped ${skipped.map((f) => f.name).join(', ')}.` : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  };

  const act = (index: number, action: FileAction) => {
    const item = items[index];
    if (!item) return;
    if (action === 'remove') {
      const next = items.filter((_, i) => i !== index);
      onChange(next);
      setNote(`Removed ${itemName(item)}${item.kind === 'stored' ? ' (deleted on save)' : ''}.`);
      const neighbour = next[index] ?? next[index - 1];
      setFocusTarget(neighbour ? { key: itemKey(neighbour), action: 'remove' } : 'input');
      return;
    }
    const next = moveItem(items, index, action === 'up' ? -1 : 1);
    if (!next) return;
    onChange(next);
    setNote(`Moved ${itemName(item)} to position ${next.indexOf(item) + 1} of ${next.length}.`);
    setFocusTarget({ key: itemKey(item), action });
  };

  const canMove = (index: number, delta: number) => moveItem(items, index, delta) !== null;
  const hasDrop = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');

  return (
    <FieldRow field={field} error={error} hint={fileHint(field)}>
      <div class="file-field" data-testid={`file-field-${field.name}`}>
        {items.length > 0 ? (
          <ol class="file-list" ref={list} aria-label={`Files of ${field.name}`} data-testid={`file-list-${field.name}`}>
            {items.map((item, i) => (
              <FileItemRow
                key={itemKey(item)}
                field={field}
                item={item}
                record={record}
                token={token}
                multiple={multiple}
                canUp={canMove(i, -1)}
                canDown={canMove(i, 1)}
                onAction={(action) => act(i, action)}
              />
            ))}
          </ol>
        ) : (
          <p class="muted small">No files.</p>
        )}
        <div
          class={`file-drop ${dragging ? 'dragging' : ''} ${full ? 'full' : ''}`}
          data-testid={`file-drop-${field.name}`}
          onDragEnter={(e) => {
            if (!hasDrop(e)) return;
            e.preventDefault();
            setDragging(true);
          }}
          onDragOver={(e) => {
            if (!hasDrop(e)) return;
            e.preventDefault();
            if (e.dataTransfer) e.dataTransfer.dropEffect = full ? 'none' : 'copy';
          }}
          onDragLeave={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
          }}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            add(Array.from(e.dataTransfer?.files ?? []));
          }}
        >
          <input
            ref={input}
            id={id}
            type="file"
            name={field.name}
            multiple={multiple}
            accept={field.mimeTypes?.length ? field.mimeTypes.join(',') : undefined}
            disabled={full}
            aria-invalid={Boolean(error)}
            aria-describedby={describedBy(field, error, true)}
            data-testid={`field-${field.name}`}
            onChange={(e) => {
              const picked = Array.from(e.currentTarget.files ?? []);
              // Cleared so that picking the same file again is a change too; the list shows the queue.
              e.currentTarget.value = '';
              add(picked);
            }}
          />
          <span class="muted small" aria-hidden="true">
            {full ? `Maximum of ${field.maxSelect} files reached.` : multiple ? 'or drop files here' : items.length ? 'or drop a file here to replace it' : 'or drop a file here'}
          </span>
        </div>
        <p class="muted small file-note" role="status" data-testid={`file-note-${field.name}`}>
          {note}
        </p>
      </div>
    </FieldRow>
  );
}
