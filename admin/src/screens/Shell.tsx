import { useEffect } from 'preact/hooks';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { useCollections } from '../lib/collections';
import { errorMessage } from '../lib/errors';
import { findCollection } from '../lib/fields';
import { pb } from '../lib/pb';
import { hrefOf, navigate, parseRoute, type Route } from '../lib/router';
import { Migrations } from './Migrations';
import { Records } from './Records';
import { Schema } from './Schema';
import { Sidebar } from './Sidebar';

/** The signed-in layout: top bar, collections sidebar, and the page of the route. */
export function Shell({ route }: { route: Route }) {
  const state = useCollections();
  const { collections, loading, error } = state;
  const current = route.name === 'records' || route.name === 'schema' ? route.collection : null;

  // `#/` → the first collection. The effect runs a frame after the render: the hash is read again
  // so a navigation made meanwhile is not overwritten.
  useEffect(() => {
    if (route.name === 'home' && collections.length && parseRoute(window.location.hash).name === 'home') {
      navigate({ name: 'records', collection: collections[0]!.name }, true);
    }
  }, [route, collections]);

  let page;
  if (error) {
    page = (
      <div class="panel-message error" role="alert">
        <p>Could not load the collections: {errorMessage(error)}</p>
        <button type="button" class="btn" onClick={state.reload}>
          Retry
        </button>
      </div>
    );
  } else if (loading && !collections.length) {
    page = (
      <p class="panel-message" aria-busy="true">
        Loading collections…
      </p>
    );
  } else if (route.name === 'migrations') {
    page = <Migrations />;
  } else if (current !== null) {
    const collection = findCollection(collections, current);
    if (!collection) {
      page = (
        <p class="panel-message" role="alert" data-testid="collection-not-found">
          No collection named “{current}”.
        </p>
      );
    } else if (route.name === 'schema') {
      page = <Schema collection={collection} collections={collections} />;
    } else {
      page = <Records key={collection.id} collection={collection} collections={collections} />;
    }
  } else if (route.name === 'notFound') {
    page = (
      <p class="panel-message">
        Unknown page. <a href={hrefOf({ name: 'home' })}>Go to the collections</a>.
      </p>
    );
  } else if (!collections.length) {
    page = <p class="panel-message">There are no collections.</p>;
  }

  const email = (pb.authStore.record?.['email'] as string | undefined) ?? '';

  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="#/">
          Galley
        </a>
        <span class="topbar-spacer" />
        <span class="muted small" data-testid="current-user">
          {email}
        </span>
        <button type="button" class="btn btn-small" onClick={() => pb.authStore.clear()} data-testid="logout">
          Log out
        </button>
      </header>
      <Sidebar collections={collections} current={current} route={route} onReload={state.reload} loading={loading} />
      <main class="main" id="main">
        <ErrorBoundary resetKey={hrefOf(route)}>{page}</ErrorBoundary>
      </main>
    </div>
  );
}
