import { useEffect, useRef, useState } from 'preact/hooks';
import type { Field } from '../types';

interface Props {
  fields: Field[];
  visible: string[];
  onChange: (visible: string[]) => void;
  onReset: () => void;
}

/** "Columns" menu: a checkbox per field. The options exist only while the menu is open. */
export function ColumnPicker({ fields, visible, onChange, onReset }: Props) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const toggle = (name: string, on: boolean) => {
    const set = new Set(visible);
    if (on) set.add(name);
    else set.delete(name);
    // Keep the schema order.
    onChange(fields.map((f) => f.name).filter((n) => set.has(n)));
  };

  return (
    <div
      class="popover-wrap"
      ref={ref}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          setOpen(false);
          ref.current?.querySelector<HTMLButtonElement>('button')?.focus();
        }
      }}
    >
      <button type="button" class="btn" aria-expanded={open} aria-controls="column-picker-menu" onClick={() => setOpen(!open)} data-testid="column-picker">
        Columns ({visible.length})
      </button>
      {open && (
        <fieldset class="popover" id="column-picker-menu" data-testid="column-picker-menu">
          <legend class="sr-only">Visible columns</legend>
          {fields.map((f) => (
            <label class="check" key={f.name}>
              <input type="checkbox" checked={visible.includes(f.name)} onChange={(e) => toggle(f.name, e.currentTarget.checked)} data-testid={`column-toggle-${f.name}`} />
              <span>{f.name}</span>
              <span class="muted small">{f.type}</span>
            </label>
          ))}
          <button type="button" class="btn btn-small btn-ghost" onClick={onReset} data-testid="column-reset">
            Reset to default
          </button>
        </fieldset>
      )}
    </div>
  );
}
