import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'admin/src/**/*.test.ts'],
    // Hang detectors, not speed limits: CI runs on a busy 2-core machine where a test that spawns
    // several CLI processes (each transpiling src/ through tsx) has taken over 60 s.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
