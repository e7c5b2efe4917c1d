import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consolePageOf, mailBlocks, segments } from '../../../domain/mail-blocks.js';
import { pageMail, postmortemMail, resolvedMail } from '../../../domain/templates.js';
import { mailKindOf, renderMailHtml } from '../../../activities/notifiers/mail-html.js';
import { buildIncidentView, buildOpenIncidentView, people } from '../../helpers/incident-fixture.js';

const base = 'https://incidents.example';
const links = {
  incidentUrl: `${base}/api/incidents/inc-20220614-datasync`,
  consoleUrl: `${base}/console/incidents/inc-20220614-datasync`,
};
const hostile = `<script>alert(1)</script> "><img src=x onerror=alert(2)> Tom & Jerry's 'quote' \`tick\``;
const ackUrl = `${base}/ack?t=signed.token&x=1`;

/** Every tag the HTML holds, by name. */
const tags = (html: string) => [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase());
const allowed = new Set([
  'html',
  'head',
  'meta',
  'title',
  'body',
  'div',
  'p',
  'h1',
  'a',
  'strong',
  'ul',
  'li',
  'pre',
]);

describe('consolePageOf', () => {
  it.each([
    [`${base}/api/incidents/inc-1`, `${base}/console/incidents/inc-1`],
    [`${base}/api/incidents/inc-1/`, `${base}/console/incidents/inc-1`],
    [`${base}/api/incidents/inc-1/postmortem`, `${base}/console/incidents/inc-1/postmortem`],
    [`${base}/api/incidents/inc-1/acknowledge`, undefined],
    [`${base}/status`, undefined],
  ])('%s → %s', (url, expected) => expect(consolePageOf(url)).toBe(expected));
});

describe('segments', () => {
  it('links URLs without the sentence’s closing punctuation, API incident URLs as their console page', () => {
    expect(segments(`The timeline: ${base}/api/incidents/inc-1. Then ${base}/x?a=1&b=2, done`)).toEqual([
      { text: 'The timeline: ' },
      { text: `${base}/console/incidents/inc-1`, href: `${base}/console/incidents/inc-1` },
      { text: '. Then ' },
      { text: `${base}/x?a=1&b=2`, href: `${base}/x?a=1&b=2` },
      { text: ', done' },
    ]);
  });
  it('never links a javascript: URL', () => {
    expect(segments('javascript:alert(1)')).toEqual([{ text: 'javascript:alert(1)' }]);
  });
});

describe('mailBlocks', () => {
  it('finds the heading, the list, the command, the quote and the next sentence of a page', () => {
    const m = pageMail(
      buildOpenIncidentView(2),
      { level: 2, cycle: 0, reason: 'escalation' },
      people.security,
      links,
      { kind: 'next', level: 3, fallback: false, names: ['Ola Hansen'], afterMs: 15 * 60_000 },
      '2022-06-14T07:25:41.000Z',
    );
    const blocks = mailBlocks(m.text);
    const next = blocks.filter((b) => b.next);
    expect(next).toHaveLength(1);
    expect(JSON.stringify(next[0])).toContain('level 3 is paged next: Ola Hansen');
    expect(JSON.stringify(next[0])).toContain('2022-06-14 07:40 UTC');
    const parts = blocks.flatMap((b) => b.parts);
    expect(parts).toContainEqual({ heading: [{ text: 'What is wrong:' }] });
    expect(parts.some((p) => 'code' in p && p.code.startsWith('curl -X POST'))).toBe(true);
    expect(parts.some((p) => 'list' in p && JSON.stringify(p).includes('Kari Nordmann'))).toBe(true);
  });
});

describe('renderMailHtml', () => {
  const view = buildOpenIncidentView(1, {
    reason: hostile,
    service: { id: 'fs-canvas', name: `FS <b>bold</b> & "Canvas"`, timezone: 'Europe/Oslo' },
  });
  const m = pageMail(view, { level: 1, cycle: 0, reason: 'initial' }, people.owner, links, {
    kind: 'nobody',
  });

  it('escapes a hostile reason, service name and subject: no tag but the template’s own', () => {
    const html = renderMailHtml({ kind: 'page', subject: m.subject, text: m.text, ackUrl });
    expect(new Set(tags(html))).toEqual(new Set([...tags(html)].filter((t) => allowed.has(t))));
    expect(html).not.toMatch(/<script|<img|<b>/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;');
    expect(html).toContain('Tom &amp; Jerry&#x27;s');
    expect(html).toContain('FS &lt;b&gt;bold&lt;/b&gt; &amp; &quot;Canvas&quot;');
  });

  it('has the acknowledge button, the console link and "nobody further"', () => {
    const html = renderMailHtml({ kind: 'page', subject: m.subject, text: m.text, ackUrl });
    expect(html).toContain(`data-role="ack" href="${base}/ack?t&#x3D;signed.token&amp;x&#x3D;1"`);
    expect(html).toContain(`data-role="console" href="${links.consoleUrl}"`);
    expect(html).toMatch(/data-role="next"[^]*nobody further is paged automatically/);
    expect(html).toContain('max-width:600px');
  });

  it('refuses a non-http acknowledge or console URL', () => {
    const html = renderMailHtml({
      kind: 'page',
      subject: 's',
      text: 'Hi,',
      ackUrl: 'javascript:alert(1)',
      consoleUrl: 'javascript:alert(2)',
    });
    expect(html).not.toContain('javascript:');
    expect(html).not.toContain('data-role="ack"');
  });

  it('a resolved mail links its timeline in the console and keeps the recovery facts', () => {
    const r = resolvedMail(buildIncidentView(), people.owner, links);
    const html = renderMailHtml({ kind: 'resolved', subject: r.subject, text: r.text });
    expect(html).toContain(`data-role="console" href="${links.consoleUrl}"`);
    expect(html).not.toContain(`${base}/api/incidents`);
    expect(html).toContain('RESOLVED');
    expect(html).toContain('Open the timeline in the console');
  });

  it('a postmortem mail links the console’s postmortem page and says the meeting', () => {
    const pm = postmortemMail(buildIncidentView(), '# draft', '2022-06-21', people.owner, {
      ...links,
      postmortemUrl: `${links.incidentUrl}/postmortem`,
    });
    const html = renderMailHtml({ kind: 'postmortem', subject: pm.subject, text: pm.text });
    expect(html).toContain(`data-role="console" href="${links.consoleUrl}/postmortem"`);
    expect(html).toContain('It is due by 2022-06-21.');
  });
});

describe('renderMailHtml, any text', () => {
  it('makes no element but the template’s own (every < of the text is escaped)', () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '<',
        '>',
        '&',
        '"',
        "'",
        '`',
        '=',
        '\n',
        '  - ',
        '    curl ',
        ':',
        'https://x.example/a?b=<c>',
        '{{x}}',
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.string(), (parts, subject) => {
        const text = parts.join('');
        const html = renderMailHtml({ kind: 'notice', subject, text });
        expect(tags(html).filter((t) => !allowed.has(t))).toEqual([]);
        const body = html.slice(html.indexOf('</h1>') + 5, html.indexOf('</body>'));
        expect(body).not.toMatch(/<(?!\/?(div|p|a|strong|ul|li|pre)\b)/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('mailKindOf', () => {
  it.each([
    [{ idempotencyKey: 'incident/x/run/page-1/kari', ackLink: {} }, 'page'],
    [{ idempotencyKey: 'incident/x/run/resolved/kari' }, 'resolved'],
    [{ idempotencyKey: 'postmortem/x/draft' }, 'postmortem'],
    [{ idempotencyKey: 'postmortem/x/reminder-1' }, 'notice'],
  ])('%j → %s', (mail, kind) => expect(mailKindOf(mail)).toBe(kind));
});
