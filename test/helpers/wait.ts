/**
 * Polls `check` every 100 ms until it holds, failing after `timeoutMs`: the machine may be busy,
 * so tests wait for conditions with a generous deadline instead of sleeping a fixed time.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
