import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/index.js';
import { loadCollections } from '../../src/schema/index.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';

describe.each(DIALECTS)('example app migrates (%s)', (dialect) => {
  let t: TestDatabase;
  afterEach(async () => t?.drop());

  it('creates every table on an empty database, then plans nothing', async () => {
    t = await freshDatabase(dialect);
    const schema = await loadCollections('collections');
    const first = await migrate(t.db, schema, { apply: true, allowDestructive: false });
    expect(first.plan.steps.map((s) => s.kind)).toContain('create_junction');
    expect(first.plan.steps.every((s) => s.risk === 'safe')).toBe(true);
    const second = await migrate(t.db, schema, { apply: true, allowDestructive: false });
    expect(second.plan.steps).toEqual([]);
    expect(second.applied).toBe(false);
  });
});
