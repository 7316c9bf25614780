import { useEffect, useState } from 'preact/hooks';
import { errorMessage, isAbort, statusOf } from '../lib/errors';
import { pb } from '../lib/pb';
import type { MigrationPlan } from '../types';

/** Read-only view of `GET /api/galley/migrations`: the running server's pending plan and drift. */
export function Migrations() {
  const [plan, setPlan] = useState<MigrationPlan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    setLoading(true);
    pb.send<MigrationPlan>('/api/galley/migrations', { method: 'GET', requestKey: 'migrations', cache: 'no-store' })
      .then((res) => {
        if (!live) return;
        setPlan({ steps: Array.isArray(res.steps) ? res.steps : [], drift: Array.isArray(res.drift) ? res.drift : [], notes: Array.isArray(res.notes) ? res.notes : [] });
        setError(null);
      })
      .catch((err: unknown) => {
        if (!live || isAbort(err)) return;
        setError(statusOf(err) === 404 ? 'This server does not report its migration plan (GET /api/galley/migrations is missing).' : errorMessage(err));
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [tick]);

  return (
    <div class="migrations-page" data-testid="migrations-view">
      <div class="page-head">
        <h1 class="page-title">Pending migrations</h1>
        <button type="button" class="btn" onClick={() => setTick((t) => t + 1)} disabled={loading} data-testid="migrations-refresh">
          Refresh
        </button>
      </div>
      <p class="muted small">
        The plan between the collection files and the database of the running server. Apply it with <span class="mono">galley migrate</span> (destructive steps need <span class="mono">--allow-destructive</span>).
      </p>
      {loading && !plan && <p aria-busy="true">Loading…</p>}
      {error && (
        <p class="form-error" role="alert" data-testid="migrations-error">
          {error}
        </p>
      )}
      {plan && (
        <>
          {plan.steps.length > 0 && (
            <p class="muted small" data-testid="migrations-summary">
              {plan.steps.length} {plan.steps.length === 1 ? 'step' : 'steps'}: {(['safe', 'rewrite', 'destructive'] as const).map((r) => `${plan.steps.filter((s) => s.risk === r).length} ${r}`).join(', ')}.
            </p>
          )}
          {plan.steps.length === 0 ? (
            <p class="notice" data-testid="migrations-up-to-date">
              The database is up to date: no pending steps.
            </p>
          ) : (
            <ol class="steps" data-testid="migrations-steps">
              {plan.steps.map((step, i) => (
                <li key={i} class="step" data-testid={`migration-step-${i}`}>
                  <div class="step-head">
                    <span class={`badge risk risk-${step.risk}`} data-testid="migration-risk">
                      {step.risk}
                    </span>
                    <span class="muted small mono">{step.kind}</span>
                    <span>{step.summary}</span>
                  </div>
                  {step.loss && (
                    <p class="step-loss" data-testid="migration-loss">
                      Would lose {step.loss}
                    </p>
                  )}
                  {step.sql.length > 0 && <pre class="code-block">{step.sql.join('\n')}</pre>}
                </li>
              ))}
            </ol>
          )}
          {plan.drift.length > 0 && (
            <section aria-labelledby="drift-title">
              <h2 id="drift-title">Drift</h2>
              <p class="muted small">Differences between the database and what Galley created. Galley never overwrites them silently.</p>
              <ul class="drift" data-testid="migrations-drift">
                {plan.drift.map((d, i) => (
                  <li key={i}>{d}</li>
                ))}
              </ul>
            </section>
          )}
          {(plan.notes ?? []).length > 0 && (
            <section aria-labelledby="notes-title">
              <h2 id="notes-title">Notes</h2>
              <ul data-testid="migrations-notes">
                {(plan.notes ?? []).map((n, i) => (
                  <li key={i}>{n}</li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </div>
  );
}
