/** A migration plan: ordered steps, each with its SQL and a risk class. */
export type Risk = 'safe' | 'rewrite' | 'destructive';

export type StepKind =
  | 'create_table'
  | 'rename_table'
  | 'drop_table'
  | 'add_column'
  | 'rename_column'
  | 'change_columns'
  | 'create_junction'
  | 'drop_junction'
  | 'add_foreign_keys'
  | 'create_index'
  | 'drop_index'
  | 'create_trigger'
  | 'drop_trigger'
  | 'create_view'
  | 'drop_view';

export interface PlanStep {
  kind: StepKind;
  risk: Risk;
  /** The table, column, index or view the step is about. */
  target: string;
  summary: string;
  sql: string[];
  /** For destructive steps: what would be lost, in numbers. */
  loss?: string;
}

export interface Plan {
  steps: PlanStep[];
  /** Differences between the database and Galley's last record of it, left untouched. */
  drift: string[];
  notes: string[];
  checksum: string;
}

export const RISK_ORDER: Record<Risk, number> = { safe: 0, rewrite: 1, destructive: 2 };

export function maxRisk(risks: Risk[]): Risk {
  return risks.reduce<Risk>((worst, r) => (RISK_ORDER[r] > RISK_ORDER[worst] ? r : worst), 'safe');
}

export function destructiveSteps(plan: Plan): PlanStep[] {
  return plan.steps.filter((s) => s.risk === 'destructive');
}

/** The plan as text: one line per step, its SQL indented below (what `migrate --plan` prints). */
export function formatPlan(plan: Plan): string {
  if (plan.steps.length === 0) return 'Nothing to migrate: the database matches the collection files.';
  const lines = [`Migration plan (${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}):`];
  plan.steps.forEach((step, i) => {
    lines.push(`${String(i + 1).padStart(3)}. [${step.risk}] ${step.summary}${step.loss ? ` — would lose ${step.loss}` : ''}`);
    for (const sql of step.sql) lines.push(`       ${sql.replace(/\s+/g, ' ')};`);
  });
  return lines.join('\n');
}
