/**
 * parseableViewQuery: the SQLite view query as node-sql-parser's grammar can read it, meaning the
 * same (windows without PARTITION BY get `PARTITION BY NULL`, names the grammar reserves but SQLite
 * does not are quoted), and inspectViewQuery's table list (a CTE is not a collection).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectViewQuery, parseableViewQuery } from '../../src/schema/view-query.js';

describe('parseableViewQuery', () => {
  it.each([
    ['SELECT (ROW_NUMBER() OVER()) as id FROM t;', 'SELECT (ROW_NUMBER() OVER( PARTITION BY NULL )) as id FROM t'],
    ['SELECT ROW_NUMBER() over (order by x) AS id FROM t', 'SELECT ROW_NUMBER() over ( PARTITION BY NULL order by x) AS id FROM t'],
    ['SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) AS id FROM t', 'SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) AS id FROM t'],
    ['SELECT count(*) OVER /* all */ () AS n FROM t', 'SELECT count(*) OVER /* all */ ( PARTITION BY NULL ) AS n FROM t'],
    ['SELECT id, session, COUNT(x) AS count FROM t', 'SELECT id, "session", COUNT(x) AS "count" FROM t'],
    ["SELECT 'OVER () session' AS s, \"over\" FROM t -- OVER ()", "SELECT 'OVER () session' AS s, \"over\" FROM t -- OVER ()"],
  ])('%s', (written, parseable) => {
    expect(parseableViewQuery(written)).toBe(parseable);
  });

  it('leaves string literals, quoted names and comments as written (property)', () => {
    const inner = fc.string({ unit: fc.constantFrom('a', 'O', 'V', 'E', 'R', ' ', '(', ')', 's', 'e', 'i', 'o', 'n', "''", '-', '*', '/') });
    fc.assert(
      fc.property(inner, (text) => {
        const query = `SELECT '${text}' AS a FROM t`;
        return parseableViewQuery(query) === query;
      }),
    );
  });
});

describe('inspectViewQuery', () => {
  it('names the collections read, not the CTEs', () => {
    expect(inspectViewQuery('WITH ranked AS (SELECT id, ROW_NUMBER() OVER () AS n FROM votes) SELECT id FROM ranked JOIN users ON users.id = ranked.id').tables.sort()).toEqual(['users', 'votes']);
  });

  it('reads the window functions and names PocketBase apps use', () => {
    expect(inspectViewQuery('SELECT (ROW_NUMBER() OVER()) as id, session, AVG(rating) as rating, COUNT(rating) as count FROM "ratings" GROUP BY session;').tables).toEqual(['ratings']);
  });
});
