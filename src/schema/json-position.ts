/**
 * Explains why a collection file is not valid JSON, as `invalid JSON at line L, column C: reason`
 * (1-based). JSON.parse's own messages differ between Node versions and often carry no position
 * at all, so the first error is located by a small scanner of our own; it only runs after
 * JSON.parse has already failed.
 */
export function describeJsonError(text: string, err?: Error): string {
  const found = findJsonError(text);
  const pos = found?.pos ?? text.length;
  const reason = found?.reason ?? (err?.message.split('\n')[0] ?? 'invalid JSON');
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `invalid JSON at line ${line}, column ${column}: ${reason}`;
}

interface JsonError {
  pos: number;
  reason: string;
}

class Stop extends Error {
  constructor(readonly found: JsonError) {
    super(found.reason);
  }
}

const MAX_DEPTH = 1000;

/** The offset and reason of the first syntax error in `text`, or null when it is valid JSON. */
export function findJsonError(text: string): JsonError | null {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new Stop({ pos: at, reason });
  };
  const show = (at: number) => (at >= text.length ? 'end of input' : JSON.stringify(text[at]));
  const skipSpace = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = () => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c < 0x20) fail('control character (e.g. a raw line break) inside a string');
      if (c === 0x5c) {
        const e = text[i + 1] ?? '';
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape in a string');
          i += 6;
        } else if ('"\\/bfnrt'.includes(e) && e !== '') {
          i += 2;
        } else {
          fail(`invalid escape "\\${e}" in a string`);
        }
        continue;
      }
      i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0] === '') fail('invalid number');
    i += m![0].length;
  };
  const value = (depth: number): void => {
    skipSpace();
    if (depth > MAX_DEPTH) fail('nested too deeply');
    const c = text[i] ?? '';
    if (c === '') fail('unexpected end of input');
    if (c === '{') {
      i++;
      skipSpace();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail(text[i] === '}' ? 'trailing comma before "}"' : `expected a property name in double quotes, found ${show(i)}`);
        string();
        skipSpace();
        if (text[i] !== ':') fail(`expected ":" after the property name, found ${show(i)}`);
        i++;
        value(depth + 1);
        skipSpace();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail(`expected "," or "}" after a property value, found ${show(i)}`);
      }
    }
    if (c === '[') {
      i++;
      skipSpace();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        skipSpace();
        if (text[i] === ']') fail('trailing comma before "]"');
        value(depth + 1);
        skipSpace();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail(`expected "," or "]" after an array element, found ${show(i)}`);
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) { i += word.length; return; }
    }
    if (c === "'") fail('strings must use double quotes');
    fail(`unexpected ${show(i)}`);
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value(0);
    skipSpace();
    if (i < text.length) fail(`unexpected ${show(i)} after the end of the JSON value`);
    return null;
  } catch (err) {
    if (err instanceof Stop) return err.found;
    throw err;
  }
}
