/**
 * Rich-text (editor field) helpers. Stored HTML is untrusted: before it goes into a
 * contenteditable it is parsed inertly (DOMParser runs no scripts) and stripped of active content.
 */

const DROP = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'LINK', 'META', 'BASE', 'FORM', 'INPUT', 'BUTTON', 'TEXTAREA', 'SELECT', 'SVG', 'MATH', 'TEMPLATE', 'FRAME', 'FRAMESET', 'NOSCRIPT']);
const URL_ATTRS = new Set(['href', 'src', 'xlink:href', 'action', 'formaction', 'poster', 'srcset', 'background']);

function safeUrl(value: string): boolean {
  // Browsers ignore control characters and spaces inside a URL scheme ("java\tscript:").
  const v = Array.from(value)
    .filter((ch) => ch.charCodeAt(0) > 0x20)
    .join('')
    .toLowerCase();
  return !(v.startsWith('javascript:') || v.startsWith('vbscript:') || (v.startsWith('data:') && !v.startsWith('data:image/')));
}

function clean(node: Element): void {
  for (const child of Array.from(node.children)) {
    if (DROP.has(child.tagName.toUpperCase())) {
      child.remove();
      continue;
    }
    for (const attr of Array.from(child.attributes)) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') || name === 'style' || (URL_ATTRS.has(name) && !safeUrl(attr.value))) child.removeAttribute(attr.name);
    }
    clean(child);
  }
}

export function sanitizeHtml(html: string): string {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  clean(doc.body);
  return doc.body.innerHTML;
}

/** The text of an HTML string (for table cells), whitespace collapsed. */
export function htmlToText(html: string): string {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  for (const el of Array.from(doc.body.querySelectorAll('script,style'))) el.remove();
  return (doc.body.textContent ?? '').replace(/\s+/g, ' ').trim();
}
