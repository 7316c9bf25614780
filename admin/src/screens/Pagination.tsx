export const PAGE_SIZES = [10, 30, 50, 100, 500] as const;

interface Props {
  page: number;
  perPage: number;
  hasNext: boolean;
  shown: number;
  loading: boolean;
  onPage: (page: number) => void;
  onPerPage: (perPage: number) => void;
}

/** Page navigation without a total: "next" exists while a page comes back full. */
export function Pagination({ page, perPage, hasNext, shown, loading, onPage, onPerPage }: Props) {
  const first = shown ? (page - 1) * perPage + 1 : 0;
  const last = (page - 1) * perPage + shown;
  return (
    <nav class="pagination" aria-label="Pagination" data-testid="pagination">
      <div class="pagination-size">
        <label for="page-size">Per page</label>
        <select id="page-size" value={String(perPage)} onChange={(e) => onPerPage(Number(e.currentTarget.value))} data-testid="page-size">
          {PAGE_SIZES.map((n) => (
            <option key={n} value={String(n)}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <span class="muted small" aria-live="polite" data-testid="page-range">
        {shown ? `Rows ${first}–${last}` : 'No rows'}
      </span>
      <div class="pagination-buttons">
        <button type="button" class="btn btn-small" onClick={() => onPage(page - 1)} disabled={page <= 1 || loading} data-testid="page-prev" aria-label="Previous page">
          ‹ Prev
        </button>
        <span class="page-current" data-testid="page-current" aria-current="page">
          Page {page}
        </span>
        <button type="button" class="btn btn-small" onClick={() => onPage(page + 1)} disabled={!hasNext || loading} data-testid="page-next" aria-label="Next page">
          Next ›
        </button>
      </div>
    </nav>
  );
}
