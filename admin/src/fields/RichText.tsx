import { useLayoutEffect, useRef } from 'preact/hooks';
import { sanitizeHtml } from '../lib/html';
import type { EditorField } from '../types';
import { controlId, describedBy, FieldRow } from './FieldRow';

interface Props {
  field: EditorField;
  value: string;
  onChange: (html: string) => void;
  error?: string;
}

const TOOLS: { command: string; label: string; text: string; key?: string }[] = [
  { command: 'bold', label: 'Bold', text: 'B', key: 'b' },
  { command: 'italic', label: 'Italic', text: 'I', key: 'i' },
  { command: 'createLink', label: 'Link', text: 'Link', key: 'k' },
  { command: 'insertUnorderedList', label: 'Bulleted list', text: '• List' },
  { command: 'insertOrderedList', label: 'Numbered list', text: '1. List' },
  { command: 'removeFormat', label: 'Clear formatting', text: 'Clear' },
];

/** The `editor` field: a contenteditable that saves HTML, with a small toolbar. */
export function RichText({ field, value, onChange, error }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const id = controlId(field);
  const labelId = `${id}-label`;
  /** The last HTML this editor reported: its echo through the props must not reset the DOM (caret). */
  const emitted = useRef<string | null>(null);

  // Put the stored HTML in (sanitized) only when the value comes from outside (load, reload).
  // A layout effect runs in the same flush as the render, so it never sees a value older than the DOM.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || value === emitted.current) return;
    if (el.innerHTML !== value) el.innerHTML = sanitizeHtml(value);
    emitted.current = null;
  }, [value]);

  const emit = () => {
    const el = ref.current;
    if (!el) return;
    // An emptied editor leaves `<br>` behind: treat it as empty.
    const html = el.textContent?.trim() || el.querySelector('img,hr,li') ? el.innerHTML : '';
    emitted.current = html;
    onChange(html);
  };

  const run = (command: string) => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    if (command === 'createLink') {
      const url = window.prompt('Link URL (empty removes the link)', 'https://');
      if (url === null) return;
      if (!url.trim()) document.execCommand('unlink');
      else if (/^\s*(javascript|vbscript|data):/i.test(url)) return;
      else document.execCommand('createLink', false, url.trim());
    } else {
      document.execCommand(command);
    }
    emit();
  };

  return (
    <FieldRow field={field} error={error} labelId={labelId}>
      <div class={`rich ${error ? 'invalid' : ''}`}>
        <div class="rich-toolbar" role="toolbar" aria-label={`${field.name} formatting`}>
          {TOOLS.map((t) => (
            <button
              type="button"
              key={t.command}
              class="btn btn-small btn-ghost"
              aria-label={t.label}
              title={t.key ? `${t.label} (Ctrl+${t.key.toUpperCase()})` : t.label}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => run(t.command)}
              data-testid={`editor-${field.name}-${t.command}`}
            >
              {t.text}
            </button>
          ))}
        </div>
        <div
          ref={ref}
          id={id}
          class="rich-content"
          contentEditable
          role="textbox"
          aria-multiline="true"
          aria-labelledby={labelId}
          aria-invalid={Boolean(error)}
          aria-describedby={describedBy(field, error)}
          tabIndex={0}
          onInput={emit}
          onKeyDown={(e) => {
            if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
              e.preventDefault();
              run('createLink');
            }
          }}
          data-testid={`field-${field.name}`}
        />
      </div>
    </FieldRow>
  );
}
