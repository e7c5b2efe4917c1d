import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Severity } from '../../domain/config-schema.js';
import type { IncidentState, StatusState } from '../../domain/incident.js';
import {
  formatUtc,
  isPassingCheck,
  pageMail,
  parseProbeDetails,
  postmortemMail,
  probeDetail,
  resolvedMail,
  statusMessage,
} from '../../domain/templates.js';
import type { PageStep } from '../../domain/templates.js';
import { buildIncidentView, buildOpenIncidentView, ev, page, people } from '../helpers/incident-fixture.js';

const links = { incidentUrl: 'https://incidents.example/incidents/inc-20220614-datasync/' };
const curl =
  'curl -X POST -H "Authorization: Bearer $TOKEN" https://incidents.example/incidents/inc-20220614-datasync/acknowledge';

describe('pageMail subject', () => {
  it.each<[IncidentState, Severity, PageStep, string]>([
    [
      'triggered',
      'P1',
      { level: 2, cycle: 0, reason: 'escalation' },
      '[P1] FS → Canvas integration: DOWN — level 2 page',
    ],
    [
      'triggered',
      'P0',
      { level: 1, cycle: 0, reason: 'initial' },
      '[P0] FS → Canvas integration: DOWN — level 1 page',
    ],
    [
      'triggered',
      'P1',
      { level: 1, cycle: 1, reason: 'escalation' },
      '[P1] FS → Canvas integration: DOWN — level 1 page (repeat 1)',
    ],
    [
      'triggered',
      'P2',
      { level: 0, cycle: 0, reason: 'fallback' },
      '[P2] FS → Canvas integration: DOWN — final fallback page',
    ],
    [
      'triggered',
      'P1',
      { level: 1, cycle: 0, reason: 'ack-timeout' },
      '[P1] FS → Canvas integration: DOWN — level 1 page (acknowledgement expired)',
    ],
    [
      'acknowledged',
      'P1',
      { level: 2, cycle: 0, reason: 'escalation' },
      '[P1] FS → Canvas integration: DOWN — level 2 page',
    ],
    [
      'resolving',
      'P1',
      { level: 2, cycle: 0, reason: 'escalation' },
      '[P1] FS → Canvas integration: RECOVERING — level 2 page',
    ],
  ])('%s %s %j → %s', (state, severity, step, subject) => {
    const view = buildOpenIncidentView(1, { state, severity });
    expect(pageMail(view, step, people.security, links).subject).toBe(subject);
  });
});

describe('pageMail body', () => {
  it('says what is wrong, since when, who did not answer, who is affected, and how to acknowledge', () => {
    const view = buildOpenIncidentView(3);
    const { text } = pageMail(view, { level: 3, cycle: 0, reason: 'escalation' }, people.productOwner, {
      ...links,
      ackUrl: 'https://incidents.example/ack?t=signed',
    });
    expect(text).toMatch(/^Hi Ola Hansen,\n/);
    expect(text).toContain('SSH to w3prod-datasync02 refused: the nightly XML export cannot be fetched');
    expect(text).toContain('Since: 2022-06-14 07:10 UTC (detected by monitoring (monitor:ssh-datasync))');
    expect(text).toContain(
      'Paged before you, without an answer:\n' +
        '  - Kari Nordmann <kari@uni.example> — level 1, 2022-06-14 07:10 UTC\n' +
        '  - Security mailbox <security@uni.example> — level 2, 2022-06-14 07:25 UTC\n',
    );
    expect(text).not.toContain('Ola Hansen <ola@uni.example>');
    expect(text).toContain('  - FS → Canvas integration (the failing service): 25 subscribers');
    expect(text).toContain('  - Canvas enrolment reports (depends on it): 12 subscribers');
    expect(text).toContain('  - one click: https://incidents.example/ack?t=signed');
    expect(text).toContain(curl);
  });

  it('works for the first page without an ack link', () => {
    const { text } = pageMail(
      buildOpenIncidentView(1),
      { level: 1, cycle: 0, reason: 'initial' },
      people.owner,
      links,
    );
    expect(text).toContain('Nobody was paged before you.');
    expect(text).toContain('You are paged at level 1');
    expect(text).not.toContain('one click');
    expect(text).toContain(curl);
  });

  it('counts pages not yet recorded in the view as after everything recorded', () => {
    const view = buildOpenIncidentView(1);
    const { text } = pageMail(view, { level: 2, cycle: 0, reason: 'escalation' }, people.security, links);
    expect(text).toContain('  - Kari Nordmann <kari@uni.example> — level 1');
  });

  it('leaves out those paged together with the recipient, and the acknowledger', () => {
    const at = '2022-06-14T07:25:41.000Z';
    const view = buildOpenIncidentView(1, {
      paged: [
        page('2022-06-14T07:10:41.000Z', people.owner, 1),
        page(at, people.security, 2),
        page(at, people.productOwner, 2),
      ],
      acknowledgedBy: 'kari',
    });
    const { text } = pageMail(
      view,
      { level: 2, cycle: 0, reason: 'ack-timeout' },
      people.productOwner,
      links,
    );
    expect(text).toContain('Nobody was paged before you.');
    expect(text).toContain(
      'kari acknowledged, but the incident was neither resolved nor acknowledged again in time',
    );
  });

  it('marks the recipient\'s own earlier page as "you" on a repeat', () => {
    const view = buildOpenIncidentView(3);
    const { text } = pageMail(view, { level: 1, cycle: 1, reason: 'escalation' }, people.owner, links);
    expect(text).toContain('  - you — level 1, 2022-06-14 07:10 UTC');
    expect(text).toContain('this is repeat 1');
  });
});

describe('resolvedMail', () => {
  it('gives the duration and how recovery was proven', () => {
    const { subject, text } = resolvedMail(buildIncidentView(), people.security, links);
    expect(subject).toBe('[P1] FS → Canvas integration: RESOLVED after 2h 1m');
    expect(text).toContain('Opened:   2022-06-14 07:10 UTC');
    expect(text).toContain('Resolved: 2022-06-14 09:11 UTC');
    expect(text).toContain('Duration: 2h 1m');
    expect(text).toContain('Acknowledged by ola at 2022-06-14 07:42 UTC (32m after it opened)');
    expect(text).toContain(
      'Recovery was proven by 2 passing probe rounds in a row, after ola asked to resolve it.\n' +
        'Recovery probe rounds run by the incident: 2, the last: ssh-datasync: ok (39ms).\n' +
        '  - 2022-06-14 09:10 UTC: ssh-datasync: ok (41ms)\n' +
        '  - 2022-06-14 09:11 UTC: ssh-datasync: ok (39ms)\n',
    );
    expect(text).toContain('https://incidents.example/incidents/inc-20220614-datasync');
  });

  it('says so when no probe proved the recovery', () => {
    const view = buildIncidentView({
      timeline: [
        ev('2022-06-14T07:10:00.000Z', 'kari', 'detected', 'institution reported'),
        ev('2022-06-14T08:00:00.000Z', 'kari', 'resolved', 'checked by hand'),
      ],
    });
    expect(resolvedMail(view, people.owner, links).text).toContain(
      'No probe proved the recovery: it was resolved without probe proof by kari (checked by hand).\n' +
        'Recovery probe rounds run by the incident: none.\n',
    );
  });

  it("reads passes in the incident workflow's wording", () => {
    const view = buildIncidentView({
      timeline: [
        ev(
          '2022-06-14T09:10:00.000Z',
          'probe',
          'recovery-check',
          'still failing, incident stays open: ssh-datasync (ssh) failed: refused — x',
        ),
        ev('2022-06-14T09:10:30.000Z', 'probe', 'recovery-check', 'pass 1/2: all 2 probe(s) pass'),
        ev('2022-06-14T09:11:00.000Z', 'probe', 'recovery-check', 'pass 2/2: all 2 probe(s) pass'),
        ev(
          '2022-06-14T09:11:00.000Z',
          'probe',
          'resolved',
          'recovery proven: 2 passing probe round(s) in a row',
        ),
      ],
    });
    const { text } = resolvedMail(view, people.owner, links);
    expect(text).toContain(
      'Recovery was proven by 2 passing probe rounds in a row, after staff asked to resolve it.\n' +
        'Recovery probe rounds run by the incident: 3, the last: pass 2/2: all 2 probe(s) pass.\n' +
        '  - 2022-06-14 09:10 UTC: pass 1/2: all 2 probe(s) pass\n' +
        '  - 2022-06-14 09:11 UTC: pass 2/2: all 2 probe(s) pass\n',
    );
  });

  it('lists the checks without claiming proof when the last one failed', () => {
    const view = buildIncidentView({
      timeline: [
        ev('2022-06-14T09:10:30.000Z', 'system', 'recovery-check', 'ssh-datasync: FAIL refused (2ms)'),
      ],
    });
    const { text } = resolvedMail(view, people.owner, links);
    expect(text).toContain(
      'No probe proved the recovery: it was resolved without probe proof by staff.\n' +
        'Recovery probe rounds run by the incident: 1, the last: ssh-datasync: FAIL refused (2ms).\n',
    );
    expect(text).not.toMatch(/proven/);
  });
});

describe('statusMessage', () => {
  const component = 'student-system → Canvas integration';
  const reason = 'inbound SSH to the data-sync host is blocked';
  const cases: [StatusState, 'en' | 'nb', RegExp][] = [
    [
      'investigating',
      'en',
      /^We are investigating a problem with the student-system → Canvas integration\. /,
    ],
    [
      'identified',
      'en',
      /^We have identified the cause of the problem with the student-system → Canvas integration: inbound SSH/,
    ],
    [
      'monitoring',
      'en',
      /^A fix for the problem with the student-system → Canvas integration is in place\. We are monitoring/,
    ],
    ['resolved', 'en', /^The problem with the student-system → Canvas integration is resolved/],
    ['investigating', 'nb', /^Vi undersøker et problem med student-system → Canvas integration\. /],
    [
      'identified',
      'nb',
      /^Vi har funnet årsaken til problemet med student-system → Canvas integration: inbound SSH/,
    ],
    [
      'monitoring',
      'nb',
      /^En retting av problemet med student-system → Canvas integration er på plass\. Vi følger med/,
    ],
    ['resolved', 'nb', /^Problemet med student-system → Canvas integration er løst/],
  ];
  it.each(cases)('%s in %s names the component', (state, language, expected) => {
    const text = statusMessage(state, { component, severity: 'P1', reason, language });
    expect(text).toMatch(expected);
    expect(text).toContain(component);
  });

  it('defaults to English and words the impact by severity', () => {
    const p1 = statusMessage('investigating', { component, severity: 'P1', reason });
    const p3 = statusMessage('investigating', { component, severity: 'P3', reason });
    expect(p1).toContain('may be unavailable for everyone');
    expect(p3).toContain('may be slow or partly unavailable');
    expect(statusMessage('investigating', { component, severity: 'P3', reason, language: 'nb' })).toContain(
      'treg eller delvis utilgjengelig',
    );
  });

  it('leaves the reason out when there is none', () => {
    expect(statusMessage('identified', { component, severity: 'P1', reason: '  ' })).toBe(
      `We have identified the cause of the problem with the ${component}. We are working on a fix.`,
    );
  });
});

describe('postmortemMail', () => {
  it('attaches the draft and says when it is due', () => {
    const markdown = '# Postmortem\n';
    const mail = postmortemMail(buildIncidentView(), markdown, '2022-06-21', people.owner, links);
    expect(mail.subject).toBe(
      '[P1] Postmortem due 2022-06-21: FS → Canvas integration (inc-20220614-datasync)',
    );
    expect(mail.text).toMatch(/^Hi Kari Nordmann,\n/);
    expect(mail.text).toContain('It is due by 2022-06-21.');
    expect(mail.text).toContain('postmortem-inc-20220614-datasync.md');
    expect(mail.text).toContain('after 2h 1m');
    expect(mail.attachments).toEqual([
      {
        filename: 'postmortem-inc-20220614-datasync.md',
        content: markdown,
        contentType: 'text/markdown; charset=utf-8',
      },
    ]);
  });
});

describe('probe details', () => {
  it.each([
    [
      { ok: false, code: 'refused', message: 'connect ECONNREFUSED 10.0.0.5:22', latencyMs: 3 },
      'ssh-datasync: FAIL refused — connect ECONNREFUSED 10.0.0.5:22 (3ms)',
    ],
    [
      {
        ok: false,
        code: 'hostkey-mismatch',
        message: 'got SHA256:abc\nexpected SHA256:def',
        latencyMs: 12.4,
      },
      'ssh-datasync: FAIL hostkey-mismatch — got SHA256:abc expected SHA256:def (12ms)',
    ],
    [{ ok: true, code: 'ok', message: 'ok', latencyMs: 41 }, 'ssh-datasync: ok (41ms)'],
    [
      { ok: true, code: 'ok', message: 'export is 2h old', latencyMs: 41 },
      'ssh-datasync: ok — export is 2h old (41ms)',
    ],
  ])('%j ↔ %s', (result, detail) => {
    expect(probeDetail('ssh-datasync', result)).toBe(detail);
    const [parsed] = parseProbeDetails(detail);
    expect(parsed).toMatchObject({ check: 'ssh-datasync', ok: result.ok, code: result.code });
  });

  it('reads several results and key=value details, and nothing from other text', () => {
    expect(parseProbeDetails('ssh-datasync: FAIL timeout (10000ms); export-age: ok (20ms)')).toEqual([
      { check: 'ssh-datasync', ok: false, code: 'timeout', message: '' },
      { check: 'export-age', ok: true, code: 'ok', message: '' },
    ]);
    expect(parseProbeDetails('check=export-age ok=false code=stale message="export is 26h old"')).toEqual([
      { check: 'export-age', ok: false, code: 'stale', message: 'export is 26h old' },
    ]);
    expect(parseProbeDetails('level 1: Kari Nordmann')).toEqual([]);
  });

  it("reads the incident workflow's own wording of failed checks", () => {
    expect(
      parseProbeDetails(
        'problem confirmed: ssh-datasync (ssh) failed: refused — connect ECONNREFUSED 10.0.0.5:22; ' +
          'export-age (sftpFileAge) failed: stale — export is 26h old; a second line',
      ),
    ).toEqual([
      { check: 'ssh-datasync', ok: false, code: 'refused', message: 'connect ECONNREFUSED 10.0.0.5:22' },
      { check: 'export-age', ok: false, code: 'stale', message: 'export is 26h old; a second line' },
    ]);
  });

  it.each([
    ['pass 1/2: all 3 probe(s) pass', true],
    ['ssh-datasync: ok (41ms)', true],
    ['ssh-datasync: ok (41ms); export-age: FAIL stale (20ms)', false],
    ['still failing, incident stays open: ssh-datasync (ssh) failed: refused — nope', false],
    ['checked by hand', false],
  ])('isPassingCheck(%j) = %s', (detail, expected) => {
    expect(isPassingCheck(detail)).toBe(expected);
  });
});

describe('purity', () => {
  it.each(['domain/templates.ts', 'domain/postmortem.ts'])(
    '%s has no I/O, Node built-ins or clock',
    async (file) => {
      const src = await readFile(new URL(`../../${file}`, import.meta.url), 'utf8');
      expect(src).not.toMatch(/from '(node:|fs|path|os|crypto)/);
      expect(src).not.toMatch(/Date\.now\(|new Date\(\)|Math\.random\(/);
    },
  );

  it('formats UTC times', () => {
    expect(formatUtc('2022-06-14T07:10:41.000Z')).toBe('2022-06-14 07:10 UTC');
    expect(formatUtc('2022-06-14T09:10:41+02:00')).toBe('2022-06-14 07:10 UTC');
    expect(formatUtc('yesterday')).toBe('yesterday');
  });
});
