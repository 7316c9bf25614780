import type { FileField } from '../types';

/**
 * File fields in the editor: the list of the field's files, stored ones (by their stored name) and
 * new ones queued until save. Stored files always come first: the API appends uploads after the
 * names it keeps (`f+`), so a new file cannot be put between two stored ones.
 */
export type FileItem = { kind: 'stored'; name: string } | { kind: 'new'; file: File; key: string };

let nextKey = 1;

export function newItem(file: File): FileItem {
  return { kind: 'new', file, key: `n${nextKey++}` };
}

export function storedItems(value: unknown): FileItem[] {
  const names = Array.isArray(value) ? value.map(String) : typeof value === 'string' && value ? [value] : [];
  return names.filter(Boolean).map((name) => ({ kind: 'stored', name }));
}

export function asItems(value: unknown): FileItem[] {
  return Array.isArray(value) && value.every((v) => v && typeof v === 'object' && 'kind' in v) ? (value as FileItem[]) : storedItems(value);
}

export const itemKey = (item: FileItem) => (item.kind === 'stored' ? `s:${item.name}` : item.key);
export const itemName = (item: FileItem) => (item.kind === 'stored' ? item.name : item.file.name);
export const storedNames = (items: FileItem[]) => items.flatMap((i) => (i.kind === 'stored' ? [i.name] : []));
export const newFiles = (items: FileItem[]) => items.flatMap((i) => (i.kind === 'new' ? [i.file] : []));

export const isMultipleFile = (field: FileField) => (field.maxSelect ?? 0) > 1;

/**
 * The list after adding `files`. A single field: the last file replaces whatever it held. A
 * multiple field: new files go after the others, up to maxSelect; the ones that did not fit are
 * returned as `skipped`.
 */
export function addFiles(field: FileField, items: FileItem[], files: File[]): { items: FileItem[]; skipped: File[] } {
  if (!files.length) return { items, skipped: [] };
  if (!isMultipleFile(field)) {
    const last = files[files.length - 1]!;
    return { items: [newItem(last)], skipped: files.slice(0, -1) };
  }
  const room = Math.max(field.maxSelect - items.length, 0);
  return { items: [...items, ...files.slice(0, room).map(newItem)], skipped: files.slice(room) };
}

/** Moves item `index` by `delta` within its own kind (stored files stay before new ones); null when it cannot move. */
export function moveItem(items: FileItem[], index: number, delta: number): FileItem[] | null {
  const to = index + delta;
  const item = items[index];
  const other = items[to];
  if (!item || !other || other.kind !== item.kind) return null;
  const next = [...items];
  next[index] = other;
  next[to] = item;
  return next;
}

/** `sub` is `list` with some entries left out, in the same order. */
function isSubsequence(sub: string[], list: string[]): boolean {
  let i = 0;
  for (const name of list) if (name === sub[i]) i++;
  return i === sub.length;
}

/**
 * Body entries of one file field (File values are sent as multipart parts by `toRequestBody`):
 * - create: the new files under the field's name;
 * - single field: the new file under the name (it replaces the stored one), or "" to clear it;
 * - multiple field: removals as `f-` (names), a new order as `f` (the stored names to keep, in
 *   order), new files appended as `f+`.
 */
export function fileEntries(field: FileField, current: FileItem[], initial: FileItem[], mode: 'create' | 'update'): Record<string, unknown> {
  const name = field.name;
  const added = newFiles(current);
  const multiple = isMultipleFile(field);
  if (mode === 'create') {
    if (!added.length) return {};
    return { [name]: multiple ? added : added[added.length - 1] };
  }
  const keep = storedNames(current);
  const before = storedNames(initial);
  if (!multiple) {
    if (added.length) return { [name]: added[added.length - 1] };
    return keep.join('\n') === before.join('\n') ? {} : { [name]: keep[0] ?? '' };
  }
  const out: Record<string, unknown> = {};
  if (keep.join('\n') !== before.join('\n')) {
    if (isSubsequence(keep, before)) out[`${name}-`] = before.filter((n) => !keep.includes(n));
    else out[name] = keep;
  }
  if (added.length) out[`${name}+`] = added;
  return out;
}

const isFile = (v: unknown): v is File => typeof File !== 'undefined' && v instanceof File;

/**
 * The request body for the SDK: the plain object when it holds no file, otherwise multipart —
 * one `@jsonPayload` part with every other value (typed JSON, as the SDK sends objects) and a part
 * per file under its key (`f`, `f+`).
 */
export function toRequestBody(body: Record<string, unknown>): Record<string, unknown> | FormData {
  const hasFile = Object.values(body).some((v) => isFile(v) || (Array.isArray(v) && v.some(isFile)));
  if (!hasFile) return body;
  const form = new FormData();
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (isFile(value)) form.append(key, value);
    else if (Array.isArray(value) && value.length > 0 && value.every(isFile)) for (const f of value) form.append(key, f);
    else json[key] = value;
  }
  if (Object.keys(json).length) form.append('@jsonPayload', JSON.stringify(json));
  return form;
}

/** Types the server makes thumbs of (by the stored name's extension). */
const THUMBABLE = /\.(png|jpe?g|gif|webp)$/i;
export const isThumbable = (name: string) => THUMBABLE.test(name);
export const isImageFile = (file: File) => /^image\/(png|jpeg|gif|webp|svg\+xml|avif)$/.test(file.type);

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let n = bytes / 1024;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n >= 10 || Number.isInteger(n) ? Math.round(n) : n.toFixed(1)} ${units[u]}`;
}

/** PocketBase's default maxSize (5 MiB) when the field sets none. */
export const maxSizeOf = (field: FileField) => (field.maxSize > 0 ? field.maxSize : 5 << 20);

/** The hint under a file input: how many, how large, which types, protected. */
export function fileHint(field: FileField): string {
  const parts = [isMultipleFile(field) ? `Up to ${field.maxSelect} files` : 'One file', `max ${formatBytes(maxSizeOf(field))} each`];
  if (field.mimeTypes?.length) parts.push(`types: ${field.mimeTypes.join(', ')}`);
  if (field.protected) parts.push('protected (links carry a short-lived token)');
  return `${parts.join(' · ')}.`;
}

/** Display text of a file value (conflict dialog). */
export function fileListText(items: FileItem[]): string[] {
  return items.map((i) => (i.kind === 'stored' ? i.name : `${i.file.name} (new)`));
}
