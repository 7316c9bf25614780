import { useFileToken } from '../lib/fileToken';
import { displayValue } from '../lib/format';
import { findCollection, isSortable, recordLabel } from '../lib/fields';
import type { Collection, Field, RecordData, RelationField } from '../types';
import { FileCell } from './FileCell';

export interface SortState {
  field: string;
  desc: boolean;
}

/** `-field` / `field` ↔ SortState. */
export function parseSort(sort: string): SortState | null {
  if (!sort) return null;
  return sort.startsWith('-') ? { field: sort.slice(1), desc: true } : { field: sort.replace(/^\+/, ''), desc: false };
}

/** Clicking a header: a new column sorts ascending, the sorted one flips. */
export function nextSort(current: string, field: string): string {
  const s = parseSort(current);
  if (s && s.field === field) return s.desc ? field : `-${field}`;
  return field;
}

interface Props {
  collection: Collection;
  collections: Collection[];
  columns: Field[];
  items: RecordData[];
  sort: string;
  loading: boolean;
  selectedId: string | null;
  onSort: (field: string) => void;
  onOpen: (id: string) => void;
}

function RelationCell({ field, record, collections }: { field: RelationField; record: RecordData; collections: Collection[] }) {
  const target = findCollection(collections, field.collectionId);
  const raw = record[field.name];
  const ids = Array.isArray(raw) ? raw.map(String) : raw ? [String(raw)] : [];
  if (!ids.length) return null;
  const expanded = record.expand?.[field.name];
  const list = Array.isArray(expanded) ? expanded : expanded ? [expanded] : [];
  const byId = new Map(list.map((r) => [r.id, r]));
  return (
    <span class="chips">
      {ids.map((id) => {
        const rel = byId.get(id);
        return (
          <span class="chip" key={id} title={id}>
            {rel ? recordLabel(target, rel) : id}
          </span>
        );
      })}
    </span>
  );
}

function Cell({ field, record, collections, token }: { field: Field; record: RecordData; collections: Collection[]; token: string | null }) {
  if (field.type === 'relation') return <RelationCell field={field} record={record} collections={collections} />;
  if (field.type === 'file') return <FileCell field={field} record={record} token={token} />;
  const value = record[field.name];
  if (field.type === 'bool') return <span class={value ? 'bool-yes' : 'bool-no'}>{value ? 'true' : 'false'}</span>;
  const text = displayValue(field, value);
  const title = field.type === 'date' || field.type === 'autodate' ? String(value ?? '') : undefined;
  return <span title={title}>{text}</span>;
}

export function RecordsTable({ collection, collections, columns, items, sort, loading, selectedId, onSort, onOpen }: Props) {
  const current = parseSort(sort);
  // Protected files' thumbs need a file token (one for the whole table).
  const token = useFileToken(columns.some((f) => f.type === 'file' && f.protected) && items.length > 0);
  return (
    <div class="table-wrap" aria-busy={loading}>
      <table class="records-table" data-testid="records-table">
        <caption class="sr-only">Records of {collection.name}</caption>
        <thead>
          <tr>
            {columns.map((f) => {
              const sorted = current?.field === f.name ? (current.desc ? 'descending' : 'ascending') : undefined;
              return (
                <th key={f.name} scope="col" aria-sort={sorted ?? 'none'} data-testid={`column-${f.name}`}>
                  {isSortable(f) ? (
                    <button type="button" class="th-button" onClick={() => onSort(f.name)} data-testid={`sort-${f.name}`} title={`Sort by ${f.name}`}>
                      <span>{f.name}</span>
                      <span class="sort-mark" aria-hidden="true">
                        {sorted === 'ascending' ? '▲' : sorted === 'descending' ? '▼' : ''}
                      </span>
                    </button>
                  ) : (
                    <span class="th-static">{f.name}</span>
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {items.map((record) => (
            <tr key={record.id} data-testid={`row-${record.id}`} class={selectedId === record.id ? 'selected' : ''} onClick={() => onOpen(record.id)}>
              {columns.map((f, i) => (
                <td key={f.name} class={`cell-${f.type}`}>
                  {i === 0 ? (
                    <button
                      type="button"
                      class="row-open"
                      onClick={(e) => {
                        e.stopPropagation();
                        onOpen(record.id);
                      }}
                      aria-label={`Open record ${record.id}`}
                      id={`open-${record.id}`}
                      data-testid={`open-${record.id}`}
                    >
                      <Cell field={f} record={record} collections={collections} token={token} />
                    </button>
                  ) : (
                    <Cell field={f} record={record} collections={collections} token={token} />
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
