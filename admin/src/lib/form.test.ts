import { describe, expect, it } from 'vitest';
import type { Collection, Field } from '../types';
import { buildPayload, changedFields, jsonError, localErrors, toFormValues } from './form';

const field = (f: Partial<Field> & { name: string; type: Field['type'] }): Field => ({ id: f.name, system: false, hidden: false, presentable: false, required: false, ...f }) as Field;

const kitchen: Collection = {
  id: 'k',
  name: 'kitchen',
  type: 'base',
  system: false,
  indexes: [],
  listRule: '',
  viewRule: '',
  createRule: '',
  updateRule: '',
  deleteRule: '',
  fields: [
    field({ name: 'id', type: 'text', primaryKey: true, system: true } as Partial<Field> & { name: string; type: 'text' }),
    field({ name: 'title', type: 'text' }),
    field({ name: 'count', type: 'number' }),
    field({ name: 'done', type: 'bool' }),
    field({ name: 'meta', type: 'json' }),
    field({ name: 'tags', type: 'select', maxSelect: 3, values: ['a', 'b', 'c'] } as Partial<Field> & { name: string; type: 'select' }),
    field({ name: 'owner', type: 'relation', maxSelect: 1, collectionId: 'p' } as Partial<Field> & { name: string; type: 'relation' }),
    field({ name: 'created', type: 'autodate' }),
  ],
} as Collection;

describe('admin record form', () => {
  const record = { id: 'r1', title: 'Soup', count: 3, done: true, meta: { a: 1 }, tags: ['b', 'a'], owner: 'p1', created: '2024-01-01 00:00:00.000Z' };

  it('an update sends only what changed, converted to API values', () => {
    const initial = toFormValues(kitchen, record);
    const values = { ...initial, count: '4', meta: '{"a": 2}', tags: ['a'] };
    expect(buildPayload(kitchen, values, initial, 'update')).toEqual({ count: 4, meta: { a: 2 }, tags: ['a'] });
    expect(changedFields(kitchen, values, initial).sort()).toEqual(['count', 'meta', 'tags']);
    expect(buildPayload(kitchen, initial, initial, 'update')).toEqual({});
  });

  it('a create sends every writable field, never autodates, and leaves out an empty id and number', () => {
    const empty = toFormValues(kitchen, null);
    const body = buildPayload(kitchen, { ...empty, title: 'New' }, empty, 'create');
    expect(body).toEqual({ title: 'New', done: false, meta: null, tags: [], owner: '' });
    expect(body).not.toHaveProperty('created');
  });

  it('a duplicate keeps every value but the id', () => {
    const copy = { ...toFormValues(kitchen, record), id: '' };
    expect(buildPayload(kitchen, copy, toFormValues(kitchen, null), 'create')).toEqual({ title: 'Soup', count: 3, done: true, meta: { a: 1 }, tags: ['b', 'a'], owner: 'p1' });
  });

  it('invalid JSON is caught before sending', () => {
    expect(jsonError('{"a":')).toMatch(/^Invalid JSON/);
    expect(jsonError('')).toBeNull();
    expect(localErrors(kitchen, { ...toFormValues(kitchen, null), meta: '{oops' })).toHaveProperty('meta');
  });
});
