import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe.each(DIALECTS)('records smoke (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t?.close());

  it('creates, lists, filters, expands, updates and deletes', async () => {
    const su = await t.superuserToken();
    const user = await request(t.http).post('/api/collections/users/records').set('Authorization', su).send({ email: 'a@example.com', password: 'password123', passwordConfirm: 'password123', name: 'Ann' });
    expect(user.status, JSON.stringify(user.body)).toBe(200);
    const tag = await request(t.http).post('/api/collections/tags/records').set('Authorization', su).send({ name: 'news' });
    expect(tag.status, JSON.stringify(tag.body)).toBe(200);
    const post = await request(t.http).post('/api/collections/posts/records').set('Authorization', su).send({ title: 'Hello', slug: 'hello', author: user.body.id, tags: [tag.body.id], status: 'published', views: 5 });
    expect(post.status, JSON.stringify(post.body)).toBe(200);
    expect(post.headers['etag']).toBeTruthy();
    const list = await request(t.http).get('/api/collections/posts/records').query({ filter: 'author.name = "Ann" && tags.name ?= "news"', expand: 'author,tags', sort: '-created' }).set('Authorization', su);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.totalItems).toBe(1);
    expect(list.body.items[0].expand.author.name).toBe('Ann');
    expect(list.body.items[0].expand.tags[0].name).toBe('news');
    const patched = await request(t.http).patch(`/api/collections/posts/records/${post.body.id}`).set('Authorization', su).set('If-Match', String(post.headers['etag'])).send({ 'views+': 2 });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.views).toBe(7);
    const stale = await request(t.http).patch(`/api/collections/posts/records/${post.body.id}`).set('Authorization', su).set('If-Match', String(post.headers['etag'])).send({ views: 1 });
    expect(stale.status).toBe(412);
    const del = await request(t.http).delete(`/api/collections/posts/records/${post.body.id}`).set('Authorization', su);
    expect(del.status).toBe(204);
  });
});
