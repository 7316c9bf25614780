/**
 * The example app's list queries are served by their indexes (issue 11): the SQL a real list
 * request runs (captured from the records API's runner) is EXPLAINed on each engine, and the plan
 * must read the expected index and sort nothing. A plan regression fails here; nothing is timed.
 *
 * The posts table holds 5,000 rows and is ANALYZEd, so each planner costs the choices as it would
 * in production: PostgreSQL (`EXPLAIN (FORMAT JSON)`) could sort a sequential scan if it thought
 * that cheaper, SQLite (`EXPLAIN QUERY PLAN`) could use a temporary B-tree for ORDER BY.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDate } from '../../src/schema/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const POSTS = 5000;
const STATUSES = ['published', 'published', 'published', 'draft', 'archived'];

interface Statement {
  text: string;
  values: readonly unknown[];
}

/** What EXPLAIN says about one statement: the indexes it reads and whether it sorts. */
interface PlanSummary {
  indexes: string[];
  sorts: boolean;
  /** The plan as the engine printed it, for failure messages. */
  text: string;
}

interface ListCase {
  name: string;
  query: Record<string, string>;
  /** The index the page query must read. */
  index: string;
  /** The index the total (COUNT) must read too; omitted: the total of an unfiltered list counts every row, by design. */
  countIndex?: string;
}

const CASES: ListCase[] = [
  { name: 'the natural list: newest first', query: { sort: '-created' }, index: 'idx_posts_created' },
  { name: 'oldest first', query: { sort: 'created' }, index: 'idx_posts_created' },
  { name: 'a skipTotal page', query: { sort: '-created', skipTotal: '1', page: '3' }, index: 'idx_posts_created' },
  {
    name: 'a filter on an indexed field with the order of the same index',
    query: { filter: 'status = "published"', sort: '-publishedAt' },
    // Its total counts 60% of the table: a sequential scan is the right plan for that.
    index: 'idx_posts_status_published',
  },
  { name: 'a unique field', query: { filter: 'slug = "post-01230"' }, index: 'idx_posts_slug', countIndex: 'idx_posts_slug' },
  { name: 'a text sort by a unique field', query: { sort: 'slug', skipTotal: 'true' }, index: 'idx_posts_slug' },
];

describe.each(DIALECTS)('list queries use their indexes (%s)', (dialect) => {
  let t: TestApp;
  let statements: Statement[] = [];
  const requesters: { name: string; token: () => string | null }[] = [];
  let userToken = '';

  beforeAll(async () => {
    t = await createTestApp(dialect, undefined, { onSql: (text, values) => statements.push({ text, values }) });
    const users: string[] = [];
    for (let i = 0; i < 5; i++) {
      users.push(String((await t.seed('users', { email: `u${i}@example.com`, password: 'password123', passwordConfirm: 'password123' }))['id']));
    }
    await seedPosts(t, users);
    const runner = t.app.db.runner();
    const rows = await runner.all('SELECT * FROM "users" WHERE "id" = ?', [users[0]]);
    userToken = await t.tokens.sign(t.app.records.find('users')!, rows[0]!);
    requesters.push({ name: 'guest', token: () => null }, { name: 'signed-in user', token: () => userToken });
  });
  afterAll(async () => t?.close());

  for (const who of ['guest', 'signed-in user']) {
    describe(who, () => {
      it.each(CASES)('$name', async ({ query, index, countIndex }) => {
        const { select, count } = await listStatements(query, requesters.find((r) => r.name === who)!.token());
        const plan = await explain(t, select);
        expect(plan.indexes, plan.text).toContain(index);
        expect(plan.sorts, plan.text).toBe(false);
        if (query['skipTotal']) expect(count).toBeUndefined();
        if (countIndex) {
          const countPlan = await explain(t, count!);
          expect(countPlan.indexes, countPlan.text).toContain(countIndex);
        }
      });
    });
  }

  /** Runs the list request over HTTP and returns the page query and the total query it ran. */
  async function listStatements(query: Record<string, string>, token: string | null): Promise<{ select: Statement; count: Statement | undefined }> {
    statements = [];
    const req = request(t.http).get('/api/collections/posts/records').query(query);
    const res = await (token ? req.set('Authorization', token) : req);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    const select = statements.find((s) => /^SELECT .* FROM "posts" r\b.* LIMIT \? OFFSET \?$/s.test(s.text));
    const count = statements.find((s) => /^SELECT COUNT\(\*\) AS "n" FROM "posts" r\b/.test(s.text));
    if (!select) throw new Error(`no page query among:\n${statements.map((s) => s.text).join('\n')}`);
    return { select, count };
  }
});

/** 5,000 posts written straight into the table (the records API would take minutes), then ANALYZE. */
async function seedPosts(t: TestApp, users: string[]): Promise<void> {
  const runner = t.app.db.runner();
  const start = Date.parse('2024-01-01T00:00:00Z');
  const columns = ['id', 'title', 'slug', 'author', 'status', 'publishedAt', 'created', 'updated', 'views'];
  for (let from = 0; from < POSTS; from += 500) {
    const rows: unknown[][] = [];
    for (let i = from; i < Math.min(from + 500, POSTS); i++) {
      const created = formatDate(new Date(start + i * 3_600_000));
      const id = `p${String(i).padStart(14, '0')}`;
      const author = users[Math.floor(i / 7) % users.length];
      rows.push([id, `Post ${i}`, `post-${String(i).padStart(5, '0')}`, author, STATUSES[i % STATUSES.length], created, created, created, i % 100]);
    }
    const placeholders = rows.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await runner.run(`INSERT INTO "posts" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${placeholders}`, rows.flat());
  }
  await runner.run('ANALYZE', []);
}

/**
 * EXPLAIN of the statement's own query. Subqueries (the select list's per-row aggregate of a
 * multiple relation, ordered by position) are left out: they run per returned row over a few ids.
 */
async function explain(t: TestApp, statement: Statement): Promise<PlanSummary> {
  const runner = t.app.db.runner();
  if (runner.dialect === 'sqlite') {
    const rows = (await runner.all(`EXPLAIN QUERY PLAN ${statement.text}`, statement.values)).map((r) => ({ id: Number(r['id']), parent: Number(r['parent']), detail: String(r['detail']) }));
    const inSubquery = new Set<number>();
    for (const row of rows) if (/SUBQUERY/.test(row.detail) || inSubquery.has(row.parent)) inSubquery.add(row.id);
    const details = rows.filter((r) => !inSubquery.has(r.id)).map((r) => r.detail);
    return {
      indexes: details.flatMap((d) => [...d.matchAll(/USING (?:COVERING )?INDEX (\w+)/g)].map((m) => m[1]!)),
      sorts: details.some((d) => /USE TEMP B-TREE FOR (?:.* )?ORDER BY/.test(d)),
      text: rows.map((r) => `${r.id}<${r.parent} ${r.detail}`).join('\n'),
    };
  }
  const rows = await runner.all(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values);
  const plan = (rows[0]!['QUERY PLAN'] as { Plan: PgPlanNode }[])[0]!.Plan;
  const nodes = mainPlan(plan);
  return {
    indexes: nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : [])),
    sorts: nodes.some((n) => /Sort$/.test(n['Node Type'])),
    text: JSON.stringify(plan, null, 1),
  };
}

interface PgPlanNode {
  'Node Type': string;
  'Parent Relationship'?: string;
  'Index Name'?: string;
  Plans?: PgPlanNode[];
}

/** The node and its children, without sub-plans (per-row subqueries) and init plans. */
function mainPlan(node: PgPlanNode): PgPlanNode[] {
  const children = (node.Plans ?? []).filter((p) => p['Parent Relationship'] !== 'SubPlan' && p['Parent Relationship'] !== 'InitPlan');
  return [node, ...children.flatMap(mainPlan)];
}
