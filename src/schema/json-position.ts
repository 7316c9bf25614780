/** Turns JSON.parse's "at position N" into `line L, column C` (1-based), for humans. */
export function describeJsonError(text: string, err: Error): string {
  const message = err.message.replace(/^JSON\.parse: /, '');
  const match = /position (\d+)/.exec(message);
  const pos = match ? Number(match[1]) : text.length;
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  const reason = message.replace(/\s*(in JSON )?at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
  return `invalid JSON at line ${line}, column ${column}: ${reason}`;
}
