import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../domain/changes.js';
import type { EscalationStep, IncidentView } from '../../domain/incident.js';
import {
  defaultPostmortemSettings,
  incidentFigures,
  mdCell,
  meetingAttendees,
  overdueRecipients,
  postmortemSettings,
  renderPostmortem,
} from '../../domain/postmortem.js';
import type { FollowUp, IncidentFigures, MeetingInfo } from '../../domain/postmortem.js';
import { ConfigError, parseConfig } from '../../config/load.js';
import { postmortemIssues } from '../../config/postmortem-validation.js';
import { buildIncidentView, buildOpenIncidentView, ev, page, people } from '../helpers/incident-fixture.js';

const opts = { owner: people.owner, dueDate: '2022-06-21', generatedAt: '2022-06-14T09:11:03.000Z' };

/** The body rows of the Markdown table under `heading`, split into cells on unescaped `|`. */
function tableRows(md: string, heading: string): string[][] {
  const start = md.indexOf(`${heading}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = md.slice(start).split('\n').slice(1);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of lines) {
    if (line.startsWith('|')) {
      inTable = true;
      rows.push(
        line
          .slice(2, -2)
          .split(/ (?<!\\)\| /)
          .map((c) => c.trim()),
      );
    } else if (inTable || line.startsWith('#')) break;
  }
  return rows.slice(2); // header and separator
}

describe('incidentFigures', () => {
  const cases: [string, IncidentView, Partial<IncidentFigures> & { unanswered: string[] }][] = [
    [
      'the seed incident',
      buildIncidentView(),
      {
        timeToVerifyMs: 40_000,
        timeToFirstPageMs: 41_000,
        timeToAcknowledgeMs: 32 * 60_000,
        timeToFirstStatusMs: 42_000,
        timeToRecoverMs: 2 * 3_600_000 + 60_000,
        unanswered: ['kari', 'sikkerhet'],
      },
    ],
    [
      'nobody acknowledged, still open',
      buildOpenIncidentView(3),
      {
        timeToAcknowledgeMs: undefined,
        timeToRecoverMs: undefined,
        timeToFirstPageMs: 41_000,
        unanswered: ['kari', 'sikkerhet', 'ola'],
      },
    ],
    [
      'acknowledged by the first person paged',
      buildIncidentView({
        timeline: [ev('2022-06-14T07:12:00.000Z', 'kari', 'acknowledged', 'API')],
        paged: [page('2022-06-14T07:10:41.000Z', people.owner, 1)],
      }),
      { timeToAcknowledgeMs: 2 * 60_000, unanswered: [] },
    ],
    [
      'pages after the acknowledgement do not count; the acknowledger is matched by name',
      buildIncidentView({
        timeline: [ev('2022-06-14T07:30:00.000Z', 'Security mailbox', 'acknowledged', 'email link')],
        paged: [
          page('2022-06-14T07:10:41.000Z', people.owner, 1),
          page('2022-06-14T07:25:41.000Z', people.security, 2),
          page('2022-06-14T07:40:41.000Z', people.productOwner, 1, 'ack-timeout'),
          page('2022-06-14T07:55:41.000Z', people.owner, 1, 'escalation', 1),
        ],
      }),
      { timeToAcknowledgeMs: 20 * 60_000, unanswered: ['kari'] },
    ],
    [
      'no pages, no status, no timeline: the view fields are the fallback',
      buildIncidentView({ timeline: [], paged: [], status: [], acknowledgedAt: '2022-06-14T07:20:00.000Z' }),
      {
        timeToFirstPageMs: undefined,
        timeToFirstStatusMs: undefined,
        timeToAcknowledgeMs: 10 * 60_000,
        timeToRecoverMs: 2 * 3_600_000 + 60_000,
        unanswered: [],
      },
    ],
  ];

  it.each(cases)('%s', (_label, view, { unanswered, ...expected }) => {
    const fig = incidentFigures(view);
    expect(fig).toMatchObject(expected);
    for (const [k, v] of Object.entries(expected))
      if (v === undefined) expect(fig[k as keyof IncidentFigures]).toBeUndefined();
    expect(fig.pagedWithoutAnswer.map((r) => r.id)).toEqual(unanswered);
  });
});

describe('renderPostmortem', () => {
  const view = buildIncidentView();
  const md = renderPostmortem(view, opts);

  it('has the sections of the seed report, in order', () => {
    const headings = md.split('\n').filter((l) => l.startsWith('## '));
    expect(headings).toEqual([
      '## Summary',
      '## Fault',
      '## Impact',
      '## Detection',
      '## Recovery',
      '## Timeline (UTC)',
      '## Five whys',
      '## Lessons learned',
      '## Follow-up tasks',
    ]);
  });

  it('lists every timeline event, in order, with the exact UTC time, actor, kind and detail', () => {
    const rows = tableRows(md, '## Timeline (UTC)');
    expect(rows).toHaveLength(view.timeline.length);
    rows.forEach((cells, i) => {
      const e = view.timeline[i]!;
      expect(cells).toEqual([e.at, e.actor, e.kind, mdCell(e.detail)]);
    });
  });

  it('escapes | and line breaks in cells', () => {
    expect(md).toContain('| Operators: firewall change \\| inbound SSH blocked<br>rollback started |');
    const odd = buildIncidentView({
      timeline: [ev('2022-06-14T07:10:00.000Z', 'a|b', 'note', 'x | y\r\nz')],
    });
    expect(tableRows(renderPostmortem(odd, opts), '## Timeline (UTC)')).toEqual([
      ['2022-06-14T07:10:00.000Z', 'a\\|b', 'note', 'x \\| y<br>z'],
    ]);
  });

  it.each([
    ['| Owner | Kari Nordmann \\<kari@uni.example\\> |'],
    ['| Incident | inc-20220614-datasync (workflow incident/fs-canvas) |'],
    ['| Priority | P1 |'],
    [
      '| Affected services | FS → Canvas integration: 25 subscribers<br>' +
        'Canvas enrolment reports (depends on FS → Canvas integration): 12 subscribers |',
    ],
    ['| Postmortem due | 2022-06-21 |'],
    ['| Time to first page | 41s |'],
    ['| Time to acknowledge | 32m |'],
    ['| Time to first public status message | 42s |'],
    ['| Time to recover (opened → resolved) | 2h 1m |'],
    [
      '| Paged without answering | Kari Nordmann \\<kari@uni.example\\>, Security mailbox \\<security@uni.example\\> |',
    ],
    ['| ssh-datasync | refused | connect ECONNREFUSED 10.20.30.40:22 | 2022-06-14T07:10:00.000Z | 2 |'],
    ['| ssh-datasync | timeout | handshake timed out after 10s | 2022-06-14T07:10:40.000Z | 1 |'],
    ['- Detected: 2022-06-14T07:10:00.000Z, by monitoring (monitor:ssh-datasync).'],
    ['- First page: 2022-06-14T07:10:41.000Z to Kari Nordmann \\<kari@uni.example\\> (after 41s).'],
    ['- First acknowledgement: 2022-06-14T07:42:00.000Z by ola (after 32m).'],
    ['- Resolve requested: 2022-06-14T09:10:00.000Z by ola.'],
    ['- Resolved: 2022-06-14T09:11:00.000Z (after 2h 1m).'],
    ['| Task | Owner | Due date | Tracking |'],
    ['1. Why did FS → Canvas integration fail? SSH to w3prod-datasync02 refused'],
    ['_Draft generated 2022-06-14T09:11:03.000Z from incident `inc-20220614-datasync`.'],
  ])('contains %s', (line) => {
    expect(md).toContain(line);
  });

  it('names a customer report as the source and suggests monitoring', () => {
    const reported = renderPostmortem(
      buildIncidentView({
        source: 'api',
        timeline: [
          ev('2022-06-14T07:49:00.000Z', 'institution-a', 'detected', 'cannot reach the XML export'),
        ],
      }),
      opts,
    );
    expect(reported).toContain('by a person or customer report (institution-a)');
    expect(reported).toContain('No probe failure is recorded in the timeline.');
    expect(tableRows(reported, '## Follow-up tasks')[0]).toEqual([
      'Add monitoring that detects this fault in FS → Canvas integration',
      'Kari Nordmann',
      '',
      '',
    ]);
  });

  it("finds the fault in the incident workflow's wording", () => {
    const wf = renderPostmortem(
      buildIncidentView({
        timeline: [
          ev('2022-06-14T07:10:00.000Z', 'monitor', 'detected', 'detected (P1): ssh-datasync failing'),
          ev(
            '2022-06-14T07:10:40.000Z',
            'probe',
            'verified',
            'problem confirmed: ssh-datasync (ssh) failed: refused — connect ECONNREFUSED 10.0.0.5:22',
          ),
        ],
      }),
      opts,
    );
    expect(tableRows(wf, 'What the probes found:')).toEqual([
      ['ssh-datasync', 'refused', 'connect ECONNREFUSED 10.0.0.5:22', '2022-06-14T07:10:40.000Z', '1'],
    ]);
  });

  it('renders an open, unacknowledged incident without inventing figures', () => {
    const open = renderPostmortem(buildOpenIncidentView(2), opts);
    expect(open).toContain('| Time to acknowledge | never acknowledged |');
    expect(open).toContain('| Time to recover (opened → resolved) | not resolved |');
    expect(open).toContain('- First acknowledgement: none.');
  });

  it('is deterministic', () => {
    expect(renderPostmortem(buildIncidentView(), opts)).toBe(md);
  });
});

describe('figures: detection', () => {
  it('the seed: monitoring noticed first, the probe failure is the opening', () => {
    const fig = incidentFigures(buildIncidentView());
    expect(fig).toMatchObject({
      noticedFirstBy: 'monitoring',
      faultBeganAt: '2022-06-14T07:10:00.000Z',
      firstProbeFailureAt: '2022-06-14T07:10:00.000Z',
      timeToDetectMs: 0,
      monitoringReportedAt: '2022-06-14T07:10:00.000Z',
    });
    expect(fig.customerReportedAt).toBeUndefined();
  });

  it('a customer first, monitoring joined later: says so, with how much later', () => {
    const view = buildIncidentView({
      source: 'customer',
      openedAt: '2022-06-14T07:49:00.000Z',
      timeline: [
        ev('2022-06-14T07:49:00.000Z', 'institution-a', 'detected', 'cannot reach the XML export'),
        ev(
          '2022-06-14T07:49:30.000Z',
          'probe',
          'verified',
          'problem confirmed: ssh-datasync (ssh) failed: refused — connect ECONNREFUSED 10.0.0.5:22',
        ),
        ev(
          '2022-06-14T10:35:00.000Z',
          'monitor:ssh-datasync',
          'joined',
          'another report joined this incident (probe): ssh-datasync failing',
        ),
        ev(
          '2022-06-14T10:36:00.000Z',
          'institution-b',
          'joined',
          'another report joined this incident (customer): same',
        ),
      ],
    });
    const fig = incidentFigures(view);
    expect(fig).toMatchObject({
      noticedFirstBy: 'customer',
      customerReportedAt: '2022-06-14T07:49:00.000Z',
      monitoringReportedAt: '2022-06-14T10:35:00.000Z',
      faultBeganAt: '2022-06-14T07:49:00.000Z',
    });
    expect(fig.timeToDetectMs).toBeUndefined();
    const md = renderPostmortem(view, opts);
    expect(md).toContain(
      '| Noticed first by | a customer, not monitoring (monitoring reported it 2h 46m later) |',
    );
    expect(md).toContain('- Detected: 2022-06-14T07:49:00.000Z, by a customer report (institution-a).');
    expect(md).toContain(
      '| Time to detect (first failing probe → opened) | the probes failed only once it was reported |',
    );
  });
});

describe('renderPostmortem: changes, meeting, follow-ups, completion', () => {
  const change = (id: string, at: string, what: string): ChangeEvent => ({
    id,
    who: 'netops',
    what,
    hosts: ['w3prod-datasync02'],
    services: [],
    at,
    recordedBy: 'kari',
    recordedAt: at,
  });
  const changes = [
    change('c1', '2022-06-13T14:00:00.000Z', 'patch window'),
    change('c2', '2022-06-14T06:30:00.000Z', 'firewall: block inbound SSH from outside'),
    change('c3', '2022-06-14T09:05:00.000Z', 'firewall rule reverted'),
  ];
  const meeting: MeetingInfo = {
    start: '2022-06-16T08:00:00.000Z',
    end: '2022-06-16T09:00:00.000Z',
    local: { date: '2022-06-16', time: '10:00', timeZone: 'Europe/Oslo' },
    attendees: [people.owner, people.productOwner],
  };
  const followUps: FollowUp[] = [
    {
      id: 'f1',
      title: 'Alert when the import does not go through',
      owner: people.productOwner,
      dueDate: '2022-07-01',
      recordedBy: 'kari',
      recordedAt: '2022-06-16T09:00:00.000Z',
    },
  ];
  const md = renderPostmortem(buildIncidentView(), {
    ...opts,
    changes,
    changeWindowMs: 86_400_000,
    meeting,
    followUps,
    completed: { at: '2022-06-20T12:00:00.000Z', by: 'kari', url: 'https://wiki.example/pm/1' },
  });

  it('lists the changes before the fault as the first candidates, the latest in the first why', () => {
    expect(tableRows(md, 'the first candidates for the cause:')).toEqual([
      ['2022-06-13T14:00:00.000Z', '17h 10m', 'netops', 'patch window', 'w3prod-datasync02'],
      [
        '2022-06-14T06:30:00.000Z',
        '40m',
        'netops',
        'firewall: block inbound SSH from outside',
        'w3prod-datasync02',
      ],
    ]);
    expect(md).toContain(
      '1. Why did FS → Canvas integration fail? SSH to w3prod-datasync02 refused: the nightly XML export cannot be fetched — ' +
        '_was it the change at 2022-06-14T06:30:00.000Z by netops: firewall: block inbound SSH from outside?_',
    );
    expect(md).toContain('  - 2022-06-14T09:05:00.000Z netops: firewall rule reverted (w3prod-datasync02)');
  });

  it('says so when there were no changes, and when the change log could not be asked', () => {
    expect(
      renderPostmortem(buildIncidentView(), { ...opts, changes: [], changeWindowMs: 7_200_000 }),
    ).toContain(
      'No change to the affected hosts or services was recorded in the 2 hours before the fault began.',
    );
    expect(renderPostmortem(buildIncidentView(), opts)).toContain('_The change log could not be consulted');
  });

  it('shows the meeting, who is invited, completion and the recorded follow-ups', () => {
    expect(md).toContain(
      '| Postmortem meeting | 2022-06-16 08:00–09:00 UTC (2022-06-16 10:00 Europe/Oslo) |',
    );
    expect(md).toContain(
      '| Invited | Kari Nordmann \\<kari@uni.example\\><br>Ola Hansen \\<ola@uni.example\\> |',
    );
    expect(md).toContain('| Completed | 2022-06-20T12:00:00.000Z by kari: https://wiki.example/pm/1 |');
    expect(tableRows(md, '## Follow-up tasks')[0]).toEqual([
      'Alert when the import does not go through',
      'Ola Hansen \\<ola@uni.example\\>',
      '2022-07-01',
      'recorded by kari; reminder on the due date',
    ]);
  });
});

describe('overdueRecipients', () => {
  const step = (
    level: number,
    ids: (keyof typeof people)[],
    cycle = 0,
    fallback = false,
  ): EscalationStep => ({
    level,
    cycle,
    fallback,
    recipients: ids.map((i) => people[i]),
    waitMs: 1000,
  });
  const plan = [
    step(1, ['owner']),
    step(2, ['security', 'owner']),
    step(3, ['productOwner']),
    step(1, ['owner'], 1),
    step(0, ['serviceDesk'], 2, true),
  ];
  it.each([
    ['the owner at level 1: the first level above without them', plan, people.owner, ['ola']],
    ['someone at level 2: level 3', plan, people.security, ['ola']],
    ['the top level: the final fallback', plan, people.productOwner, ['per']],
    [
      'not on the chain: level 2',
      plan,
      { id: 'x', name: 'X', email: 'x@uni.example' },
      ['sikkerhet', 'kari'],
    ],
    ['no plan: nobody', [], people.owner, []],
    ['a one-level chain without the owner: level 1', [step(1, ['security'])], people.owner, ['sikkerhet']],
  ])('%s', (_label, p, owner, expected) => {
    expect(overdueRecipients(p, owner).map((r) => r.id)).toEqual(expected);
  });
});

describe('meetingAttendees', () => {
  it('the owner first, then everyone paged, then whoever acted and is a known contact, each once', () => {
    const view = buildIncidentView({
      timeline: [
        ...buildIncidentView().timeline,
        ev('2022-06-14T08:00:00.000Z', 'per', 'note', 'called the operators'),
        ev('2022-06-14T08:01:00.000Z', 'console:per', 'note', 'again'),
        ev('2022-06-14T08:02:00.000Z', 'someone-unknown', 'note', 'hi'),
      ],
    });
    const attendees = meetingAttendees(view, people.owner, [people.serviceDesk]);
    expect(attendees.map((a) => a.id)).toEqual(['kari', 'sikkerhet', 'ola', 'per']);
    expect(meetingAttendees(buildIncidentView({ paged: [], timeline: [] }), people.owner)).toEqual([
      people.owner,
    ]);
  });
});

describe('postmortem settings', () => {
  const minimal = `
contacts: [{ id: kari, name: Kari, email: kari@uni.example }]
policies: [{ id: p, levels: [{ notify: [kari], ackTimeout: 5m }], acknowledgementTimeout: 1h }]
services: [{ id: s, name: S, owner: kari, policy: p }]
`;
  const issues = (extra: string) => {
    try {
      const c = parseConfig(minimal + extra, 'test.yaml');
      return postmortemIssues(c).map((i) => `${i.path}: ${i.message}`);
    } catch (e) {
      if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
      throw e;
    }
  };

  it('the schema defaults are the workflow defaults', () => {
    expect(postmortemSettings(parseConfig(minimal).postmortem)).toEqual(defaultPostmortemSettings);
  });

  it('reads the section', () => {
    const c = parseConfig(
      `${minimal}postmortem: { meetingDelay: 1, meetingDuration: 45m, workingHours: { start: '08:00', end: '15:30' }, ` +
        `holidays: ['2026-05-25'], reminderInterval: 2h, overdueAfter: 0s, changeWindow: 6h }`,
    );
    expect(postmortemSettings(c.postmortem)).toEqual({
      meetingDelayWorkingDays: 1,
      meetingDurationMs: 45 * 60_000,
      workingHours: { start: '08:00', end: '15:30' },
      holidays: ['2026-05-25'],
      reminderIntervalMs: 7_200_000,
      overdueAfterMs: 0,
      changeWindowMs: 6 * 3_600_000,
    });
  });

  it('an invalid holiday is a config error with its path', () => {
    expect(issues("postmortem: { holidays: ['2026-05-25', '2026-02-30', '17. mai'] }")).toEqual([
      'postmortem.holidays[1]: must match format "date"',
      'postmortem.holidays[2]: must match format "date"',
    ]);
  });

  it.each([
    [
      "{ workingHours: { start: '9:00', end: '16:00' } }",
      'postmortem.workingHours.start: must match pattern',
    ],
    [
      "{ workingHours: { start: '16:00', end: '09:00' } }",
      'postmortem.workingHours.end: working hours must end after',
    ],
    [
      "{ meetingDuration: 8h, workingHours: { start: '09:00', end: '16:00' } }",
      'postmortem.meetingDuration: a 8h meeting does not fit',
    ],
    ['{ reminderInterval: 0s }', 'postmortem.reminderInterval: must be longer than 0'],
    ["{ holidays: ['2026-05-25', '2026-05-25'] }", 'postmortem.holidays[1]: duplicate holiday 2026-05-25'],
    ['{ meetingDelay: -1 }', 'postmortem.meetingDelay: must be >= 0'],
    ['{ remindEvery: 1d }', 'postmortem: unknown field "remindEvery"'],
  ])('postmortem: %s → %s', (section, expected) => {
    const found = issues(`postmortem: ${section}`);
    expect(
      found.some((f) => f.startsWith(expected)),
      found.join('\n'),
    ).toBe(true);
  });
});

describe('renderPostmortem: what people wrote stays text (M3)', () => {
  const hostile =
    '<script>alert(1)</script> <img src=x onerror=alert(2)> [click here](https://evil.example/) ![x](https://evil.example/t.gif) **bold** `code` | cell &amp;';
  const view = buildIncidentView({
    reason: hostile,
    timeline: [
      ev('2022-06-14T07:10:00.000Z', 'customer:<b>anon</b>', 'detected', hostile),
      ev(
        '2022-06-14T07:20:00.000Z',
        'kari',
        'note',
        `line one\n<iframe src="https://evil.example/">\n[ref]: https://evil.example/`,
      ),
    ],
    status: [
      {
        at: '2022-06-14T07:30:00.000Z',
        state: 'investigating',
        message: hostile,
        author: 'kari',
        published: true,
      } as IncidentView['status'][number],
    ],
  });
  const changes: ChangeEvent[] = [
    {
      id: 'c1',
      who: '<a href="https://evil.example/">ops</a>',
      what: hostile,
      hosts: ['w3prod-datasync02'],
      services: [],
      at: '2022-06-14T06:00:00.000Z',
      recordedBy: 'kari',
      recordedAt: '2022-06-14T06:00:00.000Z',
    },
  ];
  const md = renderPostmortem(view, { ...opts, changes, changeWindowMs: 86_400_000 });

  /** What a Markdown renderer could turn into a tag, link or image: an unescaped `<`, `[` or `&`. */
  const unescaped = (s: string, ch: string) =>
    [...s.matchAll(new RegExp(`(\\\\*)\\${ch}`, 'g'))].filter((m) => m[1]!.length % 2 === 0).length;

  it('escapes raw HTML, so no tag survives (<script>, <img>, <iframe>, <a>)', () => {
    // The only raw HTML the draft contains is its own line break in table cells.
    const withoutOurBreaks = md.replace(/<br>/g, '');
    expect(unescaped(withoutOurBreaks, '<')).toBe(0);
    expect(unescaped(md, '&')).toBe(0);
    expect(md).toContain('\\<script\\>alert(1)\\</script\\>');
    expect(md).toContain('\\<a href="https://evil.example/"\\>ops\\</a\\>');
  });

  it('escapes Markdown links, images and reference definitions', () => {
    expect(unescaped(md, '[')).toBe(0);
    expect(md).toContain('\\[click here\\](https://evil.example/)');
    expect(md).toContain('\\!\\[x\\](https://evil.example/t.gif)');
    expect(md).not.toMatch(/^\[ref\]:/m);
  });

  it('keeps the structure: a | in a report does not split a table cell, and the reason reads as written', () => {
    const row = tableRows(md, '## Timeline (UTC)')[0]!;
    expect(row).toHaveLength(4);
    expect(row[1]).toBe('customer:\\<b\\>anon\\</b\\>');
    expect(md).toContain(`What was reported: ${mdCell(hostile)}`);
    expect(mdCell('a | b')).toBe('a \\| b');
  });
});
