import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Collection } from '../types';
import { pb } from './pb';

export interface CollectionsState {
  collections: Collection[];
  loading: boolean;
  error: unknown;
  reload: () => void;
}

/** Non-system collections first, then system ones; each group by name. */
export function sortCollections(list: Collection[]): Collection[] {
  return [...list].sort((a, b) => Number(a.system) - Number(b.system) || Number(a.name.startsWith('_')) - Number(b.name.startsWith('_')) || a.name.localeCompare(b.name));
}

export function useCollections(): CollectionsState {
  const [collections, setCollections] = useState<Collection[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    setLoading(true);
    pb.collections
      .getFullList({ requestKey: 'collections' })
      .then((list) => {
        if (!live) return;
        setCollections(sortCollections(list as unknown as Collection[]));
        setError(null);
      })
      .catch((err: unknown) => {
        if (live && !(err as { isAbort?: boolean }).isAbort) setError(err);
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { collections, loading, error, reload };
}
