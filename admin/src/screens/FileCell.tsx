import { fileUrls } from '../lib/fileToken';
import { truncate } from '../lib/format';
import type { FileField, RecordData } from '../types';

const SHOWN = 3;

/** A file column's cell: a small thumb for each image (its name as alt text), the name otherwise. */
export function FileCell({ field, record, token }: { field: FileField; record: RecordData; token: string | null }) {
  const raw = record[field.name];
  const names = (Array.isArray(raw) ? raw.map(String) : raw ? [String(raw)] : []).filter(Boolean);
  if (!names.length) return null;
  const more = names.length - SHOWN;
  return (
    <span class="file-cell" data-testid={`file-cell-${field.name}`}>
      {names.slice(0, SHOWN).map((name) => {
        const thumb = fileUrls(record, name, field.protected, token)?.thumb;
        return thumb ? (
          <img key={name} class="cell-thumb" src={thumb} alt={name} title={name} width={28} height={28} loading="lazy" />
        ) : (
          <span key={name} class="chip" title={name}>
            {truncate(name, 32)}
          </span>
        );
      })}
      {more > 0 && <span class="muted small">+{more}</span>}
    </span>
  );
}
