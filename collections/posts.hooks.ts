// Server-side logic of the example app's posts (README: "Hooks, routes and cron jobs").
import { ApiError, type Hooks, type RecordEvent } from 'galley';

const STATUSES = ['draft', 'published', 'archived'] as const;

/** `Hello, World!` → `hello-world` (the posts.slug pattern: lower-case letters, digits, dashes). */
export function slugify(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
}

/** An editor (HTML) value with no text in it. */
function isBlank(html: unknown): boolean {
  return String(html ?? '')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .trim() === '';
}

/** PocketBase's date form: `2026-12-02 10:30:00.000Z`. */
function now(): string {
  return new Date().toISOString().replace('T', ' ');
}

async function preparePost(e: RecordEvent): Promise<void> {
  const post = e.record;
  // A title with no Latin letters or digits slugs to nothing: the id keeps the unique slug filled.
  if (!post['slug'] && post['title']) post['slug'] = slugify(String(post['title'])) || String(post['id']);
  const published = post['status'] === 'published';
  if (published && isBlank(post['body'])) {
    throw new ApiError(400, e.original ? 'Failed to update record.' : 'Failed to create record.', {
      body: { code: 'validation_required', message: 'A published post needs a body.' },
    });
  }
  // Becoming published stamps the time (unless the client chose one).
  if (published && e.original?.['status'] !== 'published' && !post['publishedAt']) post['publishedAt'] = now();
  await e.next();
}

export default (app: Hooks) => {
  app.onRecordCreate('posts', preparePost);
  app.onRecordUpdate('posts', preparePost);

  // Public: how many posts there are per status (counted as a superuser, so drafts count too).
  app.routerAdd('GET', '/api/posts/stats', async (e) => {
    const posts = e.app.records('posts');
    const counts = await Promise.all(STATUSES.map(async (status) => [status, await posts.count(`status = "${status}"`)] as const));
    const byStatus = Object.fromEntries(counts);
    return e.json(200, { total: counts.reduce((sum, [, n]) => sum + n, 0), byStatus });
  });
};
