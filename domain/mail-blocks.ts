/**
 * The structure of a mail's plain text (domain/templates.ts), for its HTML part: paragraphs, headed
 * sections, lists, commands, links, and the "who is next" sentence. The HTML is rendered from these
 * blocks (activities/notifiers/mail-html.ts), so it says exactly what the text says, from the same
 * facts, with the workflow passing nothing new. Pure: no I/O; nothing here is HTML or escaped (the
 * template library escapes every value).
 */

/** A run of a line: plain text, a bold label (`Since:`), or a link. */
export interface Segment {
  text: string;
  href?: string;
  strong?: boolean;
}

export type Part =
  | { heading: Segment[] }
  | { line: Segment[] }
  | { list: Segment[][] }
  | { code: string }
  | { quote: Segment[] };

export interface Block {
  parts: Part[];
  /** The sentence saying who is paged next and when, or that nobody further is. */
  next?: boolean;
}

const urlPattern = /https?:\/\/[^\s<>"'`]+/g;
const apiIncident = /^(https?:\/\/[^\s]*?)\/api\/incidents\/([^/?#\s]+)(\/postmortem)?\/?$/;

/**
 * The console page of an API incident or postmortem URL (a browser gets a sign-in page, not the
 * API's 401), or undefined for any other URL.
 */
export function consolePageOf(url: string): string | undefined {
  const m = apiIncident.exec(url);
  return m ? `${m[1]}/console/incidents/${m[2]}${m[3] ?? ''}` : undefined;
}

/** Whether a line is the page's "who is next" sentence (domain/templates.ts `nextLine`). */
export function isNextSentence(line: string): boolean {
  return /^If nobody acknowledges within /.test(line) || /^This is the last level: nobody further/.test(line);
}

/** Text with its http(s) URLs as links; API incident URLs link (and read) as their console page. */
export function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(urlPattern)) {
    // A sentence's closing punctuation is not part of the URL.
    const url = m[0].replace(/[.,;:!?)\]]+$/, '');
    const at = m.index;
    if (at > last) out.push({ text: text.slice(last, at) });
    const href = consolePageOf(url) ?? url;
    out.push({ text: href, href });
    last = at + url.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

/** A line with its leading `Label:` in bold (`Since: …`, `In the console: …`). */
function labelled(line: string): Segment[] {
  const m = /^([A-Z][A-Za-z]*(?: [A-Za-z]+){0,3}):(\s|$)/.exec(line);
  if (!m) return segments(line);
  return [{ text: `${m[1]}:`, strong: true }, ...segments(line.slice(m[1]!.length + 1))];
}

const isCommand = (body: string) => /^(curl|npm|npx|node|git) /.test(body);

function parseParagraph(lines: string[]): Block {
  const parts: Part[] = [];
  let list: Segment[][] | undefined;
  let code: string[] | undefined;
  const flush = () => {
    if (list) parts.push({ list });
    if (code) parts.push({ code: code.join('\n') });
    list = undefined;
    code = undefined;
  };
  lines.forEach((raw, i) => {
    const indent = /^ */.exec(raw)![0].length;
    const body = raw.trim();
    const continues = code !== undefined && /\\$/.test(code[code.length - 1] ?? '');
    if (indent > 0 && (isCommand(body) || continues)) {
      if (list) {
        parts.push({ list });
        list = undefined;
      }
      (code ??= []).push(body);
      return;
    }
    if (indent > 0 && body.startsWith('- ')) {
      if (code) {
        parts.push({ code: code.join('\n') });
        code = undefined;
      }
      (list ??= []).push(segments(body.slice(2)));
      return;
    }
    flush();
    if (indent > 0) parts.push({ quote: segments(body) });
    else if (body.endsWith(':') && i + 1 < lines.length && /^ /.test(lines[i + 1]!))
      parts.push({ heading: segments(body) });
    else {
      // A sentence wrapped onto the next line (it starts in lower case) is one line again.
      const prev = parts[parts.length - 1];
      if (prev && 'line' in prev && /^[a-z]/.test(body)) prev.line.push({ text: ' ' }, ...segments(body));
      else parts.push({ line: labelled(body) });
    }
  });
  flush();
  const first = lines[0]?.trim() ?? '';
  return isNextSentence(first) ? { parts, next: true } : { parts };
}

/** The text's paragraphs (split at blank lines) as blocks. */
export function mailBlocks(text: string): Block[] {
  const paragraphs: string[][] = [];
  let current: string[] = [];
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (current.length > 0) paragraphs.push(current);
      current = [];
    } else current.push(line.replace(/\s+$/, ''));
  }
  if (current.length > 0) paragraphs.push(current);
  return paragraphs.map(parseParagraph);
}
