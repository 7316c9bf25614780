/**
 * How long a focus return waits for its element to (re)appear, e.g. while the list reloads. Long:
 * the wait ends anyway as soon as the user puts the focus somewhere, and a slow server (or a busy
 * machine: 3 s was seen to pass in the browser tests) must not leave keyboard users on the body.
 */
const REAPPEAR_MS = 15_000;

/**
 * Remembers the focused element, to give the focus back later (a panel or dialog closing). The
 * element may have been re-rendered meanwhile — the records list reloads, or a live update
 * replaces its rows — so when it is gone the element now holding its `id` takes the focus
 * instead, and when nothing was focused (the list re-rendered between the click and the panel
 * opening) the caller's `fallbackId` does. When that element is not in the page at the moment
 * (its list is still loading), it gets the focus as soon as it appears, unless the user has put
 * the focus somewhere meanwhile: keyboard users land where they were, not on the page's body.
 */
export function rememberFocus(fallbackId?: string): () => void {
  const active = document.activeElement;
  const before = active instanceof HTMLElement && active !== document.body ? active : null;
  const id = before?.id || fallbackId || '';
  return () => {
    const target = before && document.contains(before) ? before : id ? document.getElementById(id) : null;
    if (target) target.focus();
    else if (id) focusWhenItAppears(id);
  };
}

function focusWhenItAppears(id: string): void {
  const lost = () => document.activeElement === document.body || document.activeElement === null;
  const observer = new MutationObserver(() => {
    const target = document.getElementById(id);
    if (!target && lost()) return;
    if (target && lost()) target.focus();
    stop();
  });
  const timer = window.setTimeout(() => stop(), REAPPEAR_MS);
  const stop = () => {
    observer.disconnect();
    window.clearTimeout(timer);
  };
  observer.observe(document.body, { childList: true, subtree: true });
}
