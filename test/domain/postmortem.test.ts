import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../domain/incident.js';
import { incidentFigures, mdCell, renderPostmortem } from '../../domain/postmortem.js';
import type { IncidentFigures } from '../../domain/postmortem.js';
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
    ['| Owner | Kari Nordmann <kari@uni.example> |'],
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
      '| Paged without answering | Kari Nordmann <kari@uni.example>, Security mailbox <security@uni.example> |',
    ],
    ['| ssh-datasync | refused | connect ECONNREFUSED 10.20.30.40:22 | 2022-06-14T07:10:00.000Z | 2 |'],
    ['| ssh-datasync | timeout | handshake timed out after 10s | 2022-06-14T07:10:40.000Z | 1 |'],
    ['- Detected: 2022-06-14T07:10:00.000Z, by monitoring (monitor:ssh-datasync).'],
    ['- First page: 2022-06-14T07:10:41.000Z to Kari Nordmann <kari@uni.example> (after 41s).'],
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
