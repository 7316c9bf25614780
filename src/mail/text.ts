import { Parser } from 'htmlparser2';

/** Elements whose content is not part of the readable text. */
const SKIPPED = new Set(['head', 'style', 'script', 'template', 'title']);
/** Elements that start and end a paragraph of their own. */
const BLOCKS = new Set(['p', 'div', 'table', 'tr', 'ul', 'ol', 'blockquote', 'pre', 'section', 'article', 'header', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr']);
const WHITESPACE_RUN = /[ \t\n\r\f]+/g;

/**
 * The plain-text alternative of an HTML email, for clients that do not show HTML
 * (and for the development log). A link keeps its URL, `Verify (https://…/TOKEN)`,
 * because in these emails the link is the whole point.
 */
export function htmlToText(html: string): string {
  const out: string[] = [];
  const links: { href: string; start: number }[] = [];
  let skipDepth = 0;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (skipDepth > 0 || SKIPPED.has(name)) {
          skipDepth++;
          return;
        }
        if (name === 'br') out.push('\n');
        else if (name === 'li') out.push('\n- ');
        else if (name === 'td' || name === 'th') out.push(' ');
        else if (BLOCKS.has(name)) out.push('\n\n');
        else if (name === 'a') links.push({ href: (attribs['href'] ?? '').trim(), start: out.length });
      },
      onclosetag(name) {
        if (skipDepth > 0) {
          skipDepth--;
          return;
        }
        if (BLOCKS.has(name)) out.push('\n\n');
        else if (name === 'a') closeLink(out, links.pop());
      },
      ontext(data) {
        if (skipDepth === 0) out.push(data.replace(WHITESPACE_RUN, ' '));
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  return tidy(out.join(''));
}

/** `label (url)`, or the bare URL when the label is empty or already is the URL. */
function closeLink(out: string[], link: { href: string; start: number } | undefined): void {
  if (!link || link.href === '' || link.href.startsWith('#')) return;
  const label = out.slice(link.start).join('').trim();
  const href = link.href.replace(/^mailto:/i, '');
  if (label === '') out.push(href);
  else if (label !== href) out.push(` (${href})`);
}

/** One space between words, lines trimmed, at most one blank line between paragraphs. */
function tidy(text: string): string {
  return text
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.replace(/ {2,}/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
