import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useReportError } from '../components/Errors';
import { errorMessage, isAbort, statusOf } from '../lib/errors';
import { applyLiveEvent } from '../lib/live';
import { columnFields, defaultColumns, relationNames } from '../lib/fields';
import { pb } from '../lib/pb';
import { loadJson, saveJson } from '../lib/storage';
import type { Collection, RecordData } from '../types';
import { CollectionTabs } from './CollectionTabs';
import { ColumnPicker } from './ColumnPicker';
import { Pagination, PAGE_SIZES } from './Pagination';
import { RecordEditor, type EditorTarget } from './RecordEditor';
import { nextSort, RecordsTable } from './RecordsTable';

interface Props {
  collection: Collection;
  collections: Collection[];
}

const columnsKey = (c: Collection) => `columns.${c.id}`;

function loadColumns(collection: Collection): string[] {
  const names = new Set(columnFields(collection).map((f) => f.name));
  const saved = loadJson<unknown>(columnsKey(collection), null);
  if (Array.isArray(saved)) {
    const valid = saved.filter((n): n is string => typeof n === 'string' && names.has(n));
    if (valid.length) return valid;
  }
  return defaultColumns(collection);
}

function loadPerPage(): number {
  const n = loadJson<number>('perPage', 30);
  return (PAGE_SIZES as readonly number[]).includes(n) ? n : 30;
}

/** Records of one collection: filter, sort, paging, columns, and the editor panel. */
export function Records({ collection, collections }: Props) {
  const report = useReportError();
  const [filterText, setFilterText] = useState('');
  const [filter, setFilter] = useState('');
  const [filterError, setFilterError] = useState<string | null>(null);
  const [sort, setSort] = useState('');
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(loadPerPage);
  const [columns, setColumns] = useState(() => loadColumns(collection));
  const [items, setItems] = useState<RecordData[]>([]);
  const [hasNext, setHasNext] = useState(false);
  const [loading, setLoading] = useState(true);
  const [loaded, setLoaded] = useState(false);
  const [total, setTotal] = useState<number | null>(null);
  const [counting, setCounting] = useState(false);
  const [reloadTick, setReloadTick] = useState(0);
  const [editor, setEditor] = useState<EditorTarget | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const seq = useRef(0);

  const allColumns = useMemo(() => columnFields(collection), [collection]);
  const shownColumns = useMemo(() => {
    const wanted = new Set(columns);
    const list = allColumns.filter((f) => wanted.has(f.name));
    return list.length ? list : allColumns.slice(0, 1);
  }, [allColumns, columns]);
  const expand = useMemo(() => relationNames(collection, shownColumns.map((f) => f.name)).join(','), [collection, shownColumns]);
  const isView = collection.type === 'view';

  const load = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const result = await pb.collection(collection.name).getList<RecordData>(page, perPage, {
        skipTotal: true,
        ...(filter ? { filter } : {}),
        ...(sort ? { sort } : {}),
        ...(expand ? { expand } : {}),
        requestKey: `records-list-${collection.id}`,
      });
      if (mine !== seq.current) return;
      setItems(result.items);
      setHasNext(result.items.length >= perPage);
      setFilterError(null);
      setLoaded(true);
    } catch (err) {
      if (isAbort(err) || mine !== seq.current) return;
      setItems([]);
      setHasNext(false);
      setLoaded(true);
      // Filter and sort problems come back as 400 with a descriptive message: show it under the input.
      if (statusOf(err) === 400) setFilterError(errorMessage(err));
      else report(err);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [collection, page, perPage, filter, sort, expand, report]);

  useEffect(() => {
    void load();
  }, [load, reloadTick]);

  // Live updates: the open page follows the collection's realtime events (same expand as the
  // list) instead of reloading on each one. Read through a ref so paging does not resubscribe.
  const liveView = useRef({ acceptsNew: true, perPage });
  liveView.current = { acceptsNew: page === 1 && !filter, perPage };
  useEffect(() => {
    if (isView) return;
    let unsubscribe: (() => Promise<void>) | null = null;
    let gone = false;
    pb.collection(collection.name)
      .subscribe<RecordData>('*', (e) => setItems((rows) => applyLiveEvent(rows, e, liveView.current)), expand ? { expand } : {})
      .then((u) => (gone ? void u().catch(() => {}) : (unsubscribe = u)))
      .catch(() => {}); // no live updates (e.g. realtime unreachable): the page still works, refresh shows changes
    return () => {
      gone = true;
      void unsubscribe?.().catch(() => {});
    };
  }, [collection, expand, isView]);

  // The total is counted only on request; it is stale as soon as the filter changes.
  useEffect(() => setTotal(null), [filter, collection]);

  useEffect(() => {
    if (!notice) return;
    const t = window.setTimeout(() => setNotice(null), 4000);
    return () => window.clearTimeout(t);
  }, [notice]);

  const count = async () => {
    setCounting(true);
    try {
      const result = await pb.collection(collection.name).getList(1, 1, { ...(filter ? { filter } : {}), fields: 'id', requestKey: `records-count-${collection.id}` });
      setTotal(result.totalItems);
    } catch (err) {
      if (statusOf(err) === 400) setFilterError(errorMessage(err));
      else report(err);
    } finally {
      setCounting(false);
    }
  };

  const applyFilter = (e: Event) => {
    e.preventDefault();
    setPage(1);
    if (filterText.trim() === filter) setReloadTick((t) => t + 1);
    else setFilter(filterText.trim());
  };

  const clearFilter = () => {
    setFilterText('');
    setFilter('');
    setPage(1);
    setFilterError(null);
  };

  const changeColumns = (names: string[]) => {
    setColumns(names);
    saveJson(columnsKey(collection), names);
  };

  const resetColumns = () => {
    const names = defaultColumns(collection);
    setColumns(names);
    saveJson(columnsKey(collection), null);
  };

  const changePerPage = (n: number) => {
    setPerPage(n);
    setPage(1);
    saveJson('perPage', n);
  };

  const afterChange = (message: string) => {
    setNotice(message);
    setReloadTick((t) => t + 1);
    if (total !== null) setTotal(null);
  };

  const emptyMessage = filter ? 'No records match this filter.' : page > 1 ? 'No more records.' : 'This collection has no records yet.';

  return (
    <div class={`records-page ${editor ? 'with-panel' : ''}`}>
      <CollectionTabs collection={collection} tab="records" />

      <div class="toolbar">
        <form class="filter-form" onSubmit={applyFilter} role="search">
          <label for="filter-input" class="sr-only">
            Filter
          </label>
          <input
            id="filter-input"
            type="search"
            class="filter-input mono"
            placeholder={'Filter, e.g. title ~ "hello" && created > "2024-01-01"'}
            value={filterText}
            onInput={(e) => setFilterText(e.currentTarget.value)}
            aria-invalid={Boolean(filterError)}
            aria-describedby={filterError ? 'filter-error' : undefined}
            spellcheck={false}
            autoComplete="off"
            data-testid="filter-input"
          />
          <button type="submit" class="btn" data-testid="filter-apply">
            Apply
          </button>
          {(filter || filterText) && (
            <button type="button" class="btn btn-ghost" onClick={clearFilter} data-testid="filter-clear">
              Clear
            </button>
          )}
        </form>
        <div class="toolbar-right">
          <ColumnPicker fields={allColumns} visible={shownColumns.map((f) => f.name)} onChange={changeColumns} onReset={resetColumns} />
          <button type="button" class="btn" onClick={() => setReloadTick((t) => t + 1)} disabled={loading} data-testid="records-refresh">
            Refresh
          </button>
          {!isView && (
            <button type="button" class="btn btn-primary" onClick={() => setEditor({ mode: 'create' })} data-testid="new-record">
              New record
            </button>
          )}
        </div>
      </div>
      {filterError && (
        <p class="filter-error" id="filter-error" role="alert" data-testid="filter-error">
          {filterError}
        </p>
      )}

      <div class="records-meta">
        <span class="muted small">
          {sort ? `Sorted by ${sort}` : 'Unsorted'}
          {filter ? ' · filtered' : ''}
        </span>
        <span class="records-count">
          {total !== null ? (
            <span data-testid="records-total">
              {total} {total === 1 ? 'record' : 'records'}
            </span>
          ) : null}
          <button type="button" class="btn btn-small btn-ghost" onClick={count} disabled={counting} data-testid="count-button">
            {counting ? 'Counting…' : total !== null ? 'Recount' : 'Count'}
          </button>
        </span>
      </div>
      {notice && (
        <p class="notice" role="status" data-testid="notice">
          {notice}
        </p>
      )}

      <RecordsTable
        collection={collection}
        collections={collections}
        columns={shownColumns}
        items={items}
        sort={sort}
        loading={loading}
        selectedId={editor?.mode === 'edit' ? editor.id : null}
        onSort={(name) => {
          setSort(nextSort(sort, name));
          setPage(1);
        }}
        onOpen={(id) => setEditor({ mode: 'edit', id })}
      />
      {loading && (
        <p class="table-state" aria-live="polite" data-testid="records-loading">
          Loading…
        </p>
      )}
      {!loading && loaded && !items.length && !filterError && (
        <div class="table-state empty" data-testid="records-empty">
          <p>{emptyMessage}</p>
          {!filter && page === 1 && !isView && (
            <button type="button" class="btn btn-primary" onClick={() => setEditor({ mode: 'create' })}>
              Create the first record
            </button>
          )}
        </div>
      )}

      <Pagination page={page} perPage={perPage} hasNext={hasNext} shown={items.length} loading={loading} onPage={setPage} onPerPage={changePerPage} />

      {editor && (
        <RecordEditor
          key={editor.mode === 'edit' ? `edit-${editor.id}` : `create-${editor.from?.id ?? ''}`}
          collection={collection}
          collections={collections}
          target={editor}
          onClose={() => setEditor(null)}
          onSaved={(record, created) => {
            setEditor(null);
            afterChange(created ? `Record ${record.id} created.` : `Record ${record.id} saved.`);
          }}
          onDeleted={(id) => {
            setEditor(null);
            afterChange(`Record ${id} deleted.`);
          }}
          onDuplicate={(record) => setEditor({ mode: 'create', from: record })}
        />
      )}
    </div>
  );
}
