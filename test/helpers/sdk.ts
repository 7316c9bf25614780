import { ClientResponseError } from 'pocketbase';
import { expect } from 'vitest';

/** Runs `fn` expecting the pocketbase SDK to throw a ClientResponseError; returns it. */
export async function sdkError(fn: () => Promise<unknown>): Promise<ClientResponseError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ClientResponseError);
    return err as ClientResponseError;
  }
  throw new Error('expected the SDK call to fail');
}
