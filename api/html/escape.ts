/**
 * Escaping for everything the server renders. HTML is built with the `html` tag: every interpolated
 * value is escaped unless it is already `Html` (the result of another `html` call), so text that
 * people or probes supplied can never become markup.
 */

/** Characters XML 1.0 forbids (C0 controls except tab/newline/return, lone surrogates, U+FFFE/FFFF). */
const invalidXmlChars =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text for HTML element content and quoted attribute values, and for XML (the Atom feed): the five
 * special characters become entities, and characters XML cannot carry at all become U+FFFD.
 */
export function escapeHtml(s: string): string {
  return s.replace(invalidXmlChars, '\uFFFD').replace(/[&<>"']/g, (c) => entities[c]!);
}

/** The same for XML, with XML's own predefined entity for the apostrophe. */
export function escapeXml(s: string): string {
  return escapeHtml(s).replace(/&#39;/g, '&apos;');
}

/** Markup that is safe to insert as is. Only `html` (and `raw` for constants) make one. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

function render(v: Interpolation): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** Tagged template: `html\`<p>${userText}</p>\`` escapes `userText`. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** A constant string of markup (never pass text from outside). */
export const raw = (markup: string) => new Html(markup);
