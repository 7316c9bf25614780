import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { errorMessage, isAbort } from '../lib/errors';

interface Notice {
  id: number;
  message: string;
}

interface ErrorsApi {
  /** Shows an error in the banner (aborted requests are ignored). */
  report: (err: unknown) => void;
}

const ErrorsContext = createContext<ErrorsApi>({ report: () => {} });

export function useReportError(): (err: unknown) => void {
  return useContext(ErrorsContext).report;
}

let nextId = 1;

/** Provides `report(err)` and shows the banner. Uncaught promise rejections land here too. */
export function ErrorsProvider({ children }: { children: ComponentChildren }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const report = useCallback((err: unknown) => {
    if (isAbort(err)) return;
    const message = errorMessage(err);
    setNotices((list) => (list.some((n) => n.message === message) ? list : [...list.slice(-3), { id: nextId++, message }]));
  }, []);
  const api = useMemo(() => ({ report }), [report]);

  useEffect(() => {
    const onRejection = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      report(e.reason);
    };
    const onError = (e: ErrorEvent) => report(e.error ?? e.message);
    window.addEventListener('unhandledrejection', onRejection);
    window.addEventListener('error', onError);
    return () => {
      window.removeEventListener('unhandledrejection', onRejection);
      window.removeEventListener('error', onError);
    };
  }, [report]);

  const dismiss = (id: number) => setNotices((list) => list.filter((n) => n.id !== id));

  return (
    <ErrorsContext.Provider value={api}>
      {notices.length > 0 && (
        <div class="error-banner" role="alert" data-testid="error-banner">
          {notices.map((n) => (
            <div class="error-banner-item" key={n.id}>
              <span>{n.message}</span>
              <button type="button" class="btn btn-small btn-ghost" aria-label="Dismiss error" onClick={() => dismiss(n.id)}>
                ×
              </button>
            </div>
          ))}
        </div>
      )}
      {children}
    </ErrorsContext.Provider>
  );
}
