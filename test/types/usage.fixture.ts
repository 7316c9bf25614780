/**
 * Compiled against the types `galley types` writes for the example app (test/types/types.test.ts).
 * With its `@ts-expect-error` lines it compiles; without them each marked line is a type error,
 * which is what makes the types strict.
 */
import PocketBase from 'pocketbase';
import { Collections, type PostsCreate, type PostsRecord, type TypedPocketBase, type UsersRecord } from './galley-types.js';

export async function usage(): Promise<void> {
  const pb = new PocketBase('http://127.0.0.1:8090') as TypedPocketBase;
  const post = await pb.collection('posts').getOne('abc', { expand: 'author' });
  const title: string = post.title;
  const tags: string[] = post.tags;
  const author: UsersRecord | undefined = post.expand?.author;
  const page = await pb.collection(Collections.Posts).getList(1, 30);
  const first: PostsRecord | undefined = page.items[0];
  const created = await pb.collection('posts').create({ title: 'Hello', slug: 'hello', author: 'u', status: 'draft' });
  await pb.collection('posts').update(created.id, { 'tags+': 't1', views: 3 });
  const input: PostsCreate = { title: 'x', slug: 'x', author: 'u', status: 'published', categories: ['news'] };
  const email: string | undefined = (await pb.collection('users').getOne('u')).email;
  void [title, tags, author, first, input, email];

  // @ts-expect-error: no such field
  void post.titel;
  // @ts-expect-error: password and tokenKey are never in a response
  void (await pb.collection('users').getOne('u')).password;
  // @ts-expect-error: a wrong key in a create body
  await pb.collection('posts').create({ titel: 'Hello', slug: 'hello', author: 'u', status: 'draft' });
  // @ts-expect-error: not one of the select values
  const status: PostsRecord['status'] = 'drafts';
  // @ts-expect-error: a required field is missing
  const incomplete: PostsCreate = { title: 'x', slug: 'x', status: 'draft' };
  // @ts-expect-error: expand holds records of the target collection
  void post.expand?.author?.titel;
  // @ts-expect-error: the tag's name is required
  await pb.collection('tags').create({ color: '#ffffff' });
  // @ts-expect-error: a record's fields are all known: no index signature
  void post['anything'];
  void [status, incomplete];
}
