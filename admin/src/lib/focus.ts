/**
 * Remembers the focused element, to give the focus back later (a panel or dialog closing). The
 * element may have been re-rendered meanwhile — the records list reloads, or a live update
 * replaces its rows — so when it is gone the element now holding its `id` takes the focus
 * instead, and when nothing was focused (the list re-rendered between the click and the panel
 * opening) the caller's `fallbackId` does: keyboard users land where they were, not on the body.
 */
export function rememberFocus(fallbackId?: string): () => void {
  const active = document.activeElement;
  const before = active instanceof HTMLElement && active !== document.body ? active : null;
  const id = before?.id || fallbackId || '';
  return () => {
    const target = before && document.contains(before) ? before : id ? document.getElementById(id) : null;
    target?.focus();
  };
}
