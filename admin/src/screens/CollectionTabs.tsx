import { hrefOf } from '../lib/router';
import type { Collection } from '../types';

/** Heading + Records / Schema tabs of a collection page. */
export function CollectionTabs({ collection, tab }: { collection: Collection; tab: 'records' | 'schema' }) {
  return (
    <div class="page-head">
      <h1 class="page-title" data-testid="collection-title">
        {collection.name}
        {collection.type !== 'base' && <span class={`badge badge-${collection.type}`}>{collection.type}</span>}
      </h1>
      <nav class="tabs" aria-label={`${collection.name} views`}>
        <a href={hrefOf({ name: 'records', collection: collection.name })} class={`tab ${tab === 'records' ? 'active' : ''}`} aria-current={tab === 'records' ? 'page' : undefined} data-testid="tab-records">
          Records
        </a>
        <a href={hrefOf({ name: 'schema', collection: collection.name })} class={`tab ${tab === 'schema' ? 'active' : ''}`} aria-current={tab === 'schema' ? 'page' : undefined} data-testid="tab-schema">
          Schema
        </a>
      </nav>
    </div>
  );
}
