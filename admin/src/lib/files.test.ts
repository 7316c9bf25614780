import { describe, expect, it } from 'vitest';
import type { Collection, Field, FileField } from '../types';
import { addFiles, fileEntries, fileHint, formatBytes, moveItem, newItem, storedItems, toRequestBody, type FileItem } from './files';
import { buildPayload, changedFields, toFormValues } from './form';

const fileField = (name: string, options: Partial<FileField> = {}): FileField => ({
  id: name,
  name,
  type: 'file',
  system: false,
  hidden: false,
  presentable: false,
  maxSelect: 1,
  maxSize: 0,
  mimeTypes: null,
  thumbs: null,
  protected: false,
  ...options,
});

const single = fileField('cover', { maxSize: 1024, mimeTypes: ['image/png'] });
const multi = fileField('docs', { maxSelect: 3 });
const file = (name: string, size = 3) => new File(['x'.repeat(size)], name, { type: 'text/plain' });
const names = (items: FileItem[]) => items.map((i) => (i.kind === 'stored' ? i.name : `+${i.file.name}`));

const gallery = {
  id: 'g',
  name: 'gallery',
  type: 'base',
  system: false,
  indexes: [],
  listRule: null,
  viewRule: null,
  createRule: null,
  updateRule: null,
  deleteRule: null,
  fields: [{ id: 'title', name: 'title', type: 'text', system: false, hidden: false, presentable: true } as Field, single, multi],
} as Collection;

describe('admin file fields', () => {
  it('stored names become items; adding respects maxSelect; a single field keeps the last pick', () => {
    const stored = storedItems(['a.txt', 'b.txt']);
    const { items, skipped } = addFiles(multi, stored, [file('c.txt'), file('d.txt')]);
    expect(names(items)).toEqual(['a.txt', 'b.txt', '+c.txt']);
    expect(skipped.map((f) => f.name)).toEqual(['d.txt']);
    expect(names(addFiles(single, storedItems('old.png'), [file('x.png'), file('y.png')]).items)).toEqual(['+y.png']);
    expect(storedItems('')).toEqual([]);
  });

  it('moves stay within stored files or within new ones', () => {
    const items = [...storedItems(['a', 'b']), newItem(file('n1')), newItem(file('n2'))];
    expect(names(moveItem(items, 1, -1)!)).toEqual(['b', 'a', '+n1', '+n2']);
    expect(moveItem(items, 1, 1)).toBeNull();
    expect(moveItem(items, 2, -1)).toBeNull();
    expect(names(moveItem(items, 3, -1)!)).toEqual(['a', 'b', '+n2', '+n1']);
    expect(moveItem(items, 0, -1)).toBeNull();
  });

  it('update of a multiple field: removals as f-, a new order as f, new files as f+', () => {
    const initial = storedItems(['a', 'b', 'c']);
    expect(fileEntries(multi, initial, initial, 'update')).toEqual({});
    expect(fileEntries(multi, storedItems(['a', 'c']), initial, 'update')).toEqual({ 'docs-': ['b'] });
    expect(fileEntries(multi, storedItems(['c', 'a']), initial, 'update')).toEqual({ docs: ['c', 'a'] });
    const n = file('n.txt');
    expect(fileEntries(multi, [...storedItems(['a']), newItem(n)], initial, 'update')).toEqual({ 'docs-': ['b', 'c'], 'docs+': [n] });
    expect(fileEntries(multi, [], initial, 'update')).toEqual({ 'docs-': ['a', 'b', 'c'] });
  });

  it('a single field: a new file replaces, removing clears, untouched sends nothing', () => {
    const initial = storedItems('old.png');
    const n = file('new.png');
    expect(fileEntries(single, [newItem(n)], initial, 'update')).toEqual({ cover: n });
    expect(fileEntries(single, [], initial, 'update')).toEqual({ cover: '' });
    expect(fileEntries(single, initial, initial, 'update')).toEqual({});
  });

  it('create sends the new files under the field name, nothing when there are none', () => {
    const a = file('a.txt');
    const b = file('b.txt');
    expect(fileEntries(multi, [newItem(a), newItem(b)], [], 'create')).toEqual({ docs: [a, b] });
    expect(fileEntries(single, [newItem(a)], [], 'create')).toEqual({ cover: a });
    expect(fileEntries(multi, [], [], 'create')).toEqual({});
  });

  it('the form: buildPayload adds file entries; changedFields sees file changes', () => {
    const record = { id: 'r1', title: 'T', cover: 'old.png', docs: ['a', 'b'] };
    const initial = toFormValues(gallery, record);
    expect(buildPayload(gallery, initial, initial, 'update')).toEqual({});
    const n = file('n.txt');
    const values = { ...initial, title: 'U', docs: [...storedItems(['b', 'a']), newItem(n)] };
    expect(buildPayload(gallery, values, initial, 'update')).toEqual({ title: 'U', docs: ['b', 'a'], 'docs+': [n] });
    expect(changedFields(gallery, values, initial).sort()).toEqual(['docs', 'title']);
    expect(buildPayload(gallery, { ...toFormValues(gallery, null), title: 'New' }, toFormValues(gallery, null), 'create')).toEqual({ title: 'New' });
  });

  it('toRequestBody: JSON without files; multipart with one @jsonPayload and a part per file otherwise', async () => {
    expect(toRequestBody({ title: 'x', 'docs-': ['a'] })).toEqual({ title: 'x', 'docs-': ['a'] });
    const n1 = file('n1.txt');
    const n2 = file('n2.txt');
    const form = toRequestBody({ title: 'x', count: 3, docs: ['b', 'a'], 'docs+': [n1, n2], cover: n1 }) as FormData;
    expect(form).toBeInstanceOf(FormData);
    expect(JSON.parse(String(form.get('@jsonPayload')))).toEqual({ title: 'x', count: 3, docs: ['b', 'a'] });
    expect(form.getAll('docs+').map((f) => (f as File).name)).toEqual(['n1.txt', 'n2.txt']);
    expect((form.get('cover') as File).name).toBe('n1.txt');
    expect(await (form.get('cover') as File).text()).toBe('xxx');
    expect(form.getAll('docs')).toEqual([]);
    // An empty list is a value (clears the field), not a missing upload.
    expect(JSON.parse(String((toRequestBody({ docs: [], cover: n1 }) as FormData).get('@jsonPayload')))).toEqual({ docs: [] });
  });

  it('hints and sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1024)).toBe('1 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 << 20)).toBe('5 MB');
    expect(fileHint(single)).toBe('One file · max 1 KB each · types: image/png.');
    expect(fileHint({ ...multi, protected: true })).toBe('Up to 3 files · max 5 MB each · protected (links carry a short-lived token).');
  });
});
