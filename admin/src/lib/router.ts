import { useEffect, useState } from 'preact/hooks';

/** Hash routes (`/_/#/...`), so the server only serves index.html and the assets. */
export type Route =
  | { name: 'home' }
  | { name: 'login' }
  | { name: 'install'; token: string }
  | { name: 'records'; collection: string }
  | { name: 'schema'; collection: string }
  | { name: 'migrations' }
  | { name: 'notFound'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+/, '');
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const [first, second, third] = parts;
  if (!first) return { name: 'home' };
  if (first === 'login' && parts.length === 1) return { name: 'login' };
  if (first === 'pbinstal' && second) return { name: 'install', token: parts.slice(1).join('/') };
  if (first === 'migrations' && parts.length === 1) return { name: 'migrations' };
  if (first === 'collections' && second) {
    if (!third) return { name: 'records', collection: second };
    if (third === 'schema' && parts.length === 3) return { name: 'schema', collection: second };
  }
  return { name: 'notFound', path };
}

export function hrefOf(route: Route): string {
  switch (route.name) {
    case 'home':
      return '#/';
    case 'login':
      return '#/login';
    case 'install':
      return `#/pbinstal/${route.token}`;
    case 'records':
      return `#/collections/${encodeURIComponent(route.collection)}`;
    case 'schema':
      return `#/collections/${encodeURIComponent(route.collection)}/schema`;
    case 'migrations':
      return '#/migrations';
    case 'notFound':
      return `#/${route.path}`;
  }
}

export function navigate(route: Route, replace = false): void {
  const href = hrefOf(route);
  if (window.location.hash === href) return;
  if (replace) window.history.replaceState(null, '', href);
  else window.location.hash = href;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
