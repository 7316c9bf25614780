import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useReportError } from '../components/Errors';
import { errorMessage, isAbort } from '../lib/errors';
import { isMultiple, recordLabel, relationTarget, searchableFields } from '../lib/fields';
import type { FormValue } from '../lib/form';
import { pb } from '../lib/pb';
import type { Collection, RecordData, RelationField } from '../types';
import { controlId, FieldRow } from './FieldRow';

interface Props {
  field: RelationField;
  value: FormValue;
  onChange: (value: FormValue) => void;
  error?: string;
  collections: Collection[];
  related: RecordData[];
}

const RESULTS = 10;

/**
 * Relation picker: the chosen records (labels from their presentable fields; a multiple relation
 * keeps its order, with up/down buttons) and a search over the target collection (`~` on its
 * presentable and text fields).
 */
export function RelationPicker({ field, value, onChange, error, collections, related }: Props) {
  const report = useReportError();
  const target = relationTarget(collections, field);
  const multiple = isMultiple(field);
  const ids = useMemo(() => (Array.isArray(value) ? (value as string[]) : typeof value === 'string' && value ? [value] : []), [value]);
  const [known, setKnown] = useState<Record<string, RecordData>>(() => Object.fromEntries(related.map((r) => [r.id, r])));
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<RecordData[] | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string | null>(null);
  const timer = useRef<number | undefined>(undefined);
  const wrap = useRef<HTMLDivElement>(null);
  const searchId = `${controlId(field)}-search`;
  const labelId = `${controlId(field)}-label`;
  const full = multiple && field.maxSelect > 0 && ids.length >= field.maxSelect;

  // Labels for chosen ids the editor did not get expanded (e.g. a duplicated record).
  useEffect(() => {
    if (!target) return;
    const missing = ids.filter((id) => !known[id]);
    if (!missing.length) return;
    const filter = missing.map((_, i) => `id = {:id${i}}`).join(' || ');
    const params = Object.fromEntries(missing.map((id, i) => [`id${i}`, id]));
    pb.collection(target.name)
      .getList<RecordData>(1, missing.length, { filter: pb.filter(filter, params), skipTotal: true, requestKey: null })
      .then((res) => setKnown((k) => ({ ...k, ...Object.fromEntries(res.items.map((r) => [r.id, r])) })))
      .catch((err: unknown) => {
        if (!isAbort(err)) report(err);
      });
  }, [ids.join(','), target?.id]);

  const search = (q: string) => {
    if (!target) return;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(async () => {
      setSearching(true);
      try {
        const names = searchableFields(target);
        const filter = q.trim() ? pb.filter(names.map((n) => `${n} ~ {:q}`).join(' || '), { q: q.trim() }) : '';
        const res = await pb.collection(target.name).getList<RecordData>(1, RESULTS, { skipTotal: true, ...(filter ? { filter } : {}), requestKey: `relation-search-${field.id}` });
        setResults(res.items);
        setKnown((k) => ({ ...k, ...Object.fromEntries(res.items.map((r) => [r.id, r])) }));
        setSearchError(null);
      } catch (err) {
        if (!isAbort(err)) setSearchError(errorMessage(err));
      } finally {
        setSearching(false);
      }
    }, 200);
  };

  useEffect(() => () => window.clearTimeout(timer.current), []);

  // Clicking elsewhere closes the results.
  useEffect(() => {
    if (results === null) return;
    const onDown = (e: MouseEvent) => {
      if (wrap.current && !wrap.current.contains(e.target as Node)) setResults(null);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [results]);

  const label = (id: string) => (known[id] ? recordLabel(target, known[id]) : id);

  const pick = (record: RecordData) => {
    if (multiple) {
      if (!ids.includes(record.id) && !full) onChange([...ids, record.id]);
    } else {
      onChange(record.id);
      setResults(null);
      setQuery('');
    }
  };

  const remove = (id: string) => onChange(multiple ? ids.filter((x) => x !== id) : '');

  const move = (index: number, delta: number) => {
    const next = [...ids];
    const to = index + delta;
    if (to < 0 || to >= next.length) return;
    [next[index], next[to]] = [next[to]!, next[index]!];
    onChange(next);
  };

  if (!target) {
    return (
      <FieldRow field={field} error={error} group>
        <p class="muted small">Unknown target collection {field.collectionId}.</p>
      </FieldRow>
    );
  }

  return (
    <FieldRow field={field} error={error} group labelId={labelId} hint={`→ ${target.name}${multiple ? `, up to ${field.maxSelect}` : ''}`}>
      <div class="relation" ref={wrap} data-testid={`field-${field.name}`} role="group" aria-labelledby={labelId}>
        {ids.length > 0 ? (
          <ol class="relation-selected" data-testid={`relation-selected-${field.name}`}>
            {ids.map((id, i) => (
              <li key={id} class="relation-item" data-testid={`relation-item-${field.name}-${id}`}>
                <span class="relation-label" title={id}>
                  {label(id)}
                  {known[id] && label(id) !== id && <span class="muted small"> {id}</span>}
                </span>
                <span class="relation-actions">
                  {multiple && (
                    <>
                      <button type="button" class="btn btn-small btn-ghost" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move ${label(id)} up`}>
                        ↑
                      </button>
                      <button type="button" class="btn btn-small btn-ghost" onClick={() => move(i, 1)} disabled={i === ids.length - 1} aria-label={`Move ${label(id)} down`}>
                        ↓
                      </button>
                    </>
                  )}
                  <button type="button" class="btn btn-small btn-ghost" onClick={() => remove(id)} aria-label={`Remove ${label(id)}`}>
                    ×
                  </button>
                </span>
              </li>
            ))}
          </ol>
        ) : (
          <p class="muted small">None selected.</p>
        )}
        <div class="relation-search">
          <label for={searchId} class="sr-only">
            Search {target.name} for {field.name}
          </label>
          <input
            id={searchId}
            type="search"
            placeholder={full ? `Maximum of ${field.maxSelect} reached` : `Search ${target.name}…`}
            value={query}
            disabled={full}
            autoComplete="off"
            aria-controls={`${searchId}-results`}
            aria-expanded={results !== null}
            onFocus={() => {
              if (results === null) search(query);
            }}
            onInput={(e) => {
              setQuery(e.currentTarget.value);
              search(e.currentTarget.value);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                // Enter picks the first match instead of submitting the record form.
                e.preventDefault();
                const first = results?.find((r) => !ids.includes(r.id));
                if (first) pick(first);
              } else if (e.key === 'Escape' && results !== null) {
                e.stopPropagation();
                setResults(null);
              } else if (e.key === 'ArrowDown') {
                e.preventDefault();
                wrap.current?.querySelector<HTMLButtonElement>('.relation-results button')?.focus();
              }
            }}
            data-testid={`relation-search-${field.name}`}
          />
          {searching && <span class="muted small"> Searching…</span>}
        </div>
        {searchError && <p class="field-error">{searchError}</p>}
        {results !== null && (
          <ul
            class="relation-results"
            id={`${searchId}-results`}
            data-testid={`relation-results-${field.name}`}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.stopPropagation();
                setResults(null);
                (document.getElementById(searchId) as HTMLInputElement | null)?.focus();
              }
            }}
          >
            {results.length === 0 && <li class="muted small">No matches.</li>}
            {results.map((r) => {
              const chosen = ids.includes(r.id);
              return (
                <li key={r.id}>
                  <button type="button" class="relation-option" disabled={chosen || full} onClick={() => pick(r)} data-testid={`relation-option-${field.name}-${r.id}`}>
                    <span>{recordLabel(target, r)}</span>
                    <span class="muted small">{r.id}</span>
                    {chosen && <span class="muted small"> (selected)</span>}
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </FieldRow>
  );
}
