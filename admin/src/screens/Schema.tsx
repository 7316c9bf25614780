import { findCollection } from '../lib/fields';
import type { Collection, Field, RuleKey } from '../types';
import { CollectionTabs } from './CollectionTabs';

const COMMON = new Set(['id', 'name', 'type', 'system', 'hidden', 'presentable', 'required', 'help']);
const TOP_KNOWN = new Set(['id', 'name', 'type', 'system', 'fields', 'indexes', 'listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'authRule', 'manageRule', 'viewQuery', 'created', 'updated']);

const RULES: { key: RuleKey; label: string; authOnly?: boolean }[] = [
  { key: 'listRule', label: 'List/Search' },
  { key: 'viewRule', label: 'View' },
  { key: 'createRule', label: 'Create' },
  { key: 'updateRule', label: 'Update' },
  { key: 'deleteRule', label: 'Delete' },
  { key: 'authRule', label: 'Auth', authOnly: true },
  { key: 'manageRule', label: 'Manage', authOnly: true },
];

function optionText(key: string, value: unknown, collections: Collection[]): string {
  if (key === 'collectionId' && typeof value === 'string') {
    const target = findCollection(collections, value);
    return target ? `${target.name} (${value})` : value;
  }
  if (typeof value === 'string') return value === '' ? '""' : value;
  return JSON.stringify(value);
}

function FieldOptions({ field, collections }: { field: Field; collections: Collection[] }) {
  const entries = Object.entries(field).filter(([k, v]) => !COMMON.has(k) && v !== undefined);
  if (!entries.length) return <span class="muted">—</span>;
  return (
    <dl class="options">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd class="mono">{optionText(k, v, collections)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Rule({ value }: { value: string | null | undefined }) {
  if (value === null || value === undefined) return <span class="rule-locked">locked — superusers only</span>;
  if (value === '') return <span class="rule-open">everyone (empty rule)</span>;
  return <code class="rule-expr">{value}</code>;
}

/** Read-only schema of a collection: fields, rules, indexes and the other options. */
export function Schema({ collection, collections }: { collection: Collection; collections: Collection[] }) {
  const isAuth = collection.type === 'auth';
  const extra = Object.fromEntries(Object.entries(collection).filter(([k]) => !TOP_KNOWN.has(k)));
  return (
    <div class="schema-page" data-testid="schema-view">
      <CollectionTabs collection={collection} tab="schema" />
      <p class="muted small">
        id <span class="mono">{collection.id}</span> · type {collection.type}
        {collection.system ? ' · system' : ''}. Collections are defined by the files in <span class="mono">collections/</span>; this page is read-only.
      </p>

      <section aria-labelledby="schema-fields">
        <h2 id="schema-fields">Fields</h2>
        <div class="table-wrap">
          <table class="schema-table" data-testid="schema-fields">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Flags</th>
                <th scope="col">Options</th>
              </tr>
            </thead>
            <tbody>
              {collection.fields.map((f) => (
                <tr key={f.id || f.name} data-testid={`schema-field-${f.name}`}>
                  <th scope="row" class="mono">
                    {f.name}
                  </th>
                  <td>{f.type}</td>
                  <td class="flags">
                    {f.required && <span class="badge">required</span>}
                    {f.hidden && <span class="badge">hidden</span>}
                    {f.presentable && <span class="badge">presentable</span>}
                    {f.system && <span class="badge">system</span>}
                  </td>
                  <td>
                    <FieldOptions field={f} collections={collections} />
                    {f.help && <p class="muted small">{f.help}</p>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="schema-rules">
        <h2 id="schema-rules">API rules</h2>
        <dl class="rules" data-testid="schema-rules">
          {RULES.filter((r) => !r.authOnly || isAuth).map((r) => (
            <div key={r.key} data-testid={`schema-rule-${r.key}`}>
              <dt>
                {r.label} <span class="muted small mono">{r.key}</span>
              </dt>
              <dd>
                <Rule value={collection[r.key] as string | null | undefined} />
              </dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="schema-indexes">
        <h2 id="schema-indexes">Indexes</h2>
        {collection.indexes.length ? (
          <ul class="code-list" data-testid="schema-indexes">
            {collection.indexes.map((sql) => (
              <li key={sql}>
                <code>{sql}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">No indexes.</p>
        )}
      </section>

      {collection.viewQuery && (
        <section aria-labelledby="schema-view-query">
          <h2 id="schema-view-query">View query</h2>
          <pre class="code-block">{collection.viewQuery}</pre>
        </section>
      )}

      {Object.keys(extra).length > 0 && (
        <section aria-labelledby="schema-options">
          <h2 id="schema-options">Other options</h2>
          <details>
            <summary>{Object.keys(extra).join(', ')}</summary>
            <pre class="code-block">{JSON.stringify(extra, null, 2)}</pre>
          </details>
        </section>
      )}
    </div>
  );
}
