import { useState } from 'preact/hooks';
import { findCollection } from '../lib/fields';
import { hrefOf, type Route } from '../lib/router';
import type { Collection } from '../types';

interface Props {
  collections: Collection[];
  current: string | null;
  route: Route;
  loading: boolean;
  onReload: () => void;
}

export function Sidebar({ collections, current, route, loading, onReload }: Props) {
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const shown = q ? collections.filter((c) => c.name.toLowerCase().includes(q)) : collections;
  const active = current ? findCollection(collections, current) : undefined;
  const tab = route.name === 'schema' ? 'schema' : 'records';

  return (
    <nav class="sidebar" aria-label="Collections">
      <div class="sidebar-search">
        <label for="collection-search" class="sr-only">
          Search collections
        </label>
        <input
          id="collection-search"
          type="search"
          placeholder="Search collections"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setQuery('');
          }}
          data-testid="collection-search"
        />
      </div>
      <ul class="sidebar-list" data-testid="collection-list">
        {shown.map((c) => {
          const isActive = active?.id === c.id;
          return (
            <li key={c.id}>
              <a
                href={hrefOf(tab === 'schema' && isActive ? { name: 'schema', collection: c.name } : { name: 'records', collection: c.name })}
                class={`sidebar-link ${isActive ? 'active' : ''}`}
                aria-current={isActive ? 'page' : undefined}
                data-testid={`collection-link-${c.name}`}
              >
                <span class="sidebar-name">{c.name}</span>
                {c.type !== 'base' && <span class={`badge badge-${c.type}`}>{c.type}</span>}
              </a>
            </li>
          );
        })}
        {!shown.length && !loading && <li class="muted small sidebar-empty">No collection matches.</li>}
      </ul>
      <div class="sidebar-footer">
        <a href={hrefOf({ name: 'migrations' })} class={`sidebar-link ${route.name === 'migrations' ? 'active' : ''}`} aria-current={route.name === 'migrations' ? 'page' : undefined} data-testid="migrations-link">
          Pending migrations
        </a>
        <button type="button" class="btn btn-small btn-ghost" onClick={onReload} disabled={loading} data-testid="collections-reload">
          Reload collections
        </button>
      </div>
    </nav>
  );
}
