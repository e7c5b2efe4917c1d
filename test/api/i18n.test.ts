/**
 * The pages' words: every English word has its Norwegian (bokmål) one — the same keys, the same
 * kind (text, or a function of the same arguments), nothing empty — for the status page, the
 * acknowledge page, the console's login, incident and postmortem pages and its daily-use pages. And the incident page's
 * nb words are not English left over.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ackPageStrings,
  consoleIncidentDone,
  consoleIncidentStrings,
  consoleLoginStrings,
  consoleRefusalsNb,
  errorHeadings,
  incidentStateWords,
  consolePostmortemStrings,
  pickLanguage,
  statusPageStrings,
} from '../../api/html/i18n.js';
import { consolePagesWords } from '../../api/routes/console-pages.js';

/** `path: kind` for every leaf: `report.missing: fn/1`, `title: text`. */
function shape(value: unknown, at = ''): string[] {
  if (typeof value === 'function') return [`${at}: fn/${value.length}`];
  if (typeof value === 'string') return [`${at}: text`];
  if (value && typeof value === 'object')
    return Object.entries(value)
      .flatMap(([k, v]) => shape(v, at ? `${at}.${k}` : k))
      .sort();
  return [`${at}: ${typeof value}`];
}

/** Every text, and every function's answer to sample arguments. */
function texts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'function') {
    const out = (value as (...a: unknown[]) => unknown)(...Array.from({ length: value.length }, () => 'X'));
    return typeof out === 'string' ? [out] : [JSON.stringify(out)];
  }
  if (value && typeof value === 'object') return Object.values(value).flatMap(texts);
  return [];
}

const tables = {
  'status page': statusPageStrings,
  'acknowledge page': ackPageStrings,
  'console incident page': consoleIncidentStrings,
  'console postmortem page': consolePostmortemStrings,
  'console login page': consoleLoginStrings,
  'error page headings': errorHeadings,
  'incident states': incidentStateWords,
  'console daily pages': consolePagesWords,
};

describe('the pages in nb and en', () => {
  for (const [name, table] of Object.entries(tables))
    it(`${name}: every en key has an nb key of the same kind, and no nb text is empty`, () => {
      expect(shape(table.nb)).toEqual(shape(table.en));
      expect(shape(table.en).length).toBeGreaterThan(5);
      for (const t of texts(table.nb)) expect(t.trim(), name).not.toBe('');
    });

  it('the incident page: a banner for every action it redirects with, and nb words that are not the English ones', () => {
    for (const l of ['en', 'nb'] as const)
      expect(Object.keys(consoleIncidentStrings[l].done).sort()).toEqual([...consoleIncidentDone].sort());
    const en = new Set(texts(consoleIncidentStrings.en));
    expect(texts(consoleIncidentStrings.nb).filter((t) => en.has(t))).toEqual([]);
  });

  it('the language: ?lang= first, then Accept-Language; nn and no are served in bokmål', () => {
    expect(pickLanguage('nb', 'en-GB,en;q=0.9')).toBe('nb');
    expect(pickLanguage('en', 'nb-NO,nb;q=0.9')).toBe('en');
    expect(pickLanguage(undefined, 'nn-NO,en;q=0.5')).toBe('nb');
    expect(pickLanguage(undefined, 'de-DE,no;q=0.8,en;q=0.5')).toBe('nb');
    expect(pickLanguage(undefined, undefined)).toBe('en');
  });

  it('a refusal in nb names the action: every action a console route names has its nb words', () => {
    const named = ['api/routes/console.ts', 'api/routes/console-pages.ts'].flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/\baction: '([^']+)'/g)].map((m) => m[1]!),
    );
    expect(named.length).toBeGreaterThan(10);
    for (const action of named) expect(consoleRefusalsNb.actions[action], action).toBeTruthy();
    expect(consoleRefusalsNb.missingRole('Per Olsen', [], 'admin', 'Force-resolving')).toBe(
      'Å tvangsløse krever rollen admin; Per Olsen har ingen rolle (kun lesing).',
    );
  });
});
