import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { impactOf, statuspageShapes, type BoardInput } from '../../domain/statuspage.js';
import { statuspageErrors } from '../helpers/statuspage-schemas.js';

const documented = JSON.parse(
  readFileSync(new URL('../fixtures/statuspage/documented-summary.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const page = { id: 'status', name: 'Service status', url: 'https://status.example.edu/status' };

const board = (over: Partial<BoardInput> = {}): BoardInput => ({
  generatedAt: '2026-12-02T10:00:00.000Z',
  components: [
    { service: 'canvas', component: 'Canvas', status: 'operational' },
    { service: 'fs', component: 'Student system', status: 'operational' },
  ],
  incidents: [],
  history: [],
  ...over,
});

const open = {
  id: 'fs.run-2',
  service: 'fs',
  component: 'Student system',
  severity: 'P1',
  state: 'identified',
  openedAt: '2026-12-02T09:00:00.000Z',
  messages: [
    { at: '2026-12-02T09:05:00.000Z', state: 'investigating', message: 'We are looking into it.' },
    { at: '2026-12-02T09:20:00.000Z', state: 'identified', message: 'The export server is down.' },
  ],
};
const closed = {
  id: 'canvas.run-1',
  service: 'canvas',
  component: 'Canvas',
  severity: 'P3',
  state: 'monitoring',
  openedAt: '2026-11-30T08:00:00.000Z',
  closedAt: '2026-11-30T09:00:00.000Z',
  messages: [{ at: '2026-11-30T08:30:00.000Z', state: 'monitoring', message: 'A fix is out.' }],
};

describe('Statuspage shapes of the status board', () => {
  it("the schemas accept Statuspage's own documented example", () => {
    expect(statuspageErrors('summary', documented)).toEqual([]);
    expect(statuspageErrors('status', { page: documented.page, status: documented.status })).toEqual([]);
    expect(statuspageErrors('incidents', { page: documented.page, incidents: documented.incidents })).toEqual(
      [],
    );
    // …and refuse what is not that shape.
    expect(statuspageErrors('status', { page: documented.page, status: { indicator: 'red' } })).not.toEqual(
      [],
    );
    const documentedPage = documented.page as Record<string, unknown>;
    expect(
      statuspageErrors('status', {
        page: { ...documentedPage, updated_at: 'yesterday' },
        status: documented.status,
      }),
    ).toEqual(['/page/updated_at must match format "date-time"']);
  });

  it.each([
    ['P0', 'critical'],
    ['P1', 'major'],
    ['P2', 'minor'],
    ['P3', 'minor'],
  ])('impact of a %s incident is %s', (severity, impact) => {
    expect(impactOf(severity)).toBe(impact);
  });

  it.each([
    // open incidents, component statuses, indicator, description
    [[], ['operational', 'operational'], 'none', 'All Systems Operational'],
    [[{ ...open, severity: 'P2' }], ['operational', 'degraded'], 'minor', 'Minor Service Outage'],
    [[open], ['operational', 'major_outage'], 'major', 'Partial System Outage'],
    [[{ ...open, severity: 'P0' }], ['operational', 'major_outage'], 'critical', 'Major System Outage'],
  ] as const)('%j → indicator %s', (incidents, statuses, indicator, description) => {
    const b = board({
      incidents: [...incidents],
      components: board().components.map((c, i) => ({ ...c, status: statuses[i]! })),
    });
    const s = statuspageShapes(b, page);
    expect(s.status.status).toEqual({ indicator, description });
    for (const [which, body] of [
      ['summary', s.summary],
      ['status', s.status],
      ['components', s.components],
      ['incidents', s.incidents],
      ['incidents', s.unresolved],
    ] as const)
      expect(statuspageErrors(which, body), which).toEqual([]);
  });

  it('maps components, open and closed incidents and their updates', () => {
    const s = statuspageShapes(
      board({
        components: [
          { service: 'canvas', component: 'Canvas', status: 'operational' },
          { service: 'fs', component: 'Student system', status: 'major_outage' },
        ],
        incidents: [open],
        history: [closed],
      }),
      page,
    );
    expect(s.components.components.map((c) => [c.id, c.name, c.status, c.position])).toEqual([
      ['canvas', 'Canvas', 'operational', 1],
      ['fs', 'Student system', 'major_outage', 2],
    ]);
    expect(s.components.components[1]!.updated_at).toBe('2026-12-02T09:20:00.000Z');
    expect(s.unresolved.incidents.map((i) => i.id)).toEqual(['fs.run-2']);
    expect(s.incidents.incidents.map((i) => [i.id, i.status, i.impact, i.resolved_at])).toEqual([
      ['fs.run-2', 'identified', 'major', null],
      ['canvas.run-1', 'resolved', 'minor', '2026-11-30T09:00:00.000Z'],
    ]);
    const fs = s.unresolved.incidents[0]!;
    expect(fs.incident_updates.map((u) => [u.status, u.body])).toEqual([
      ['identified', 'The export server is down.'],
      ['investigating', 'We are looking into it.'],
    ]);
    expect(fs.components.map((c) => c.id)).toEqual(['fs']);
    expect(s.incidents.incidents[1]!.monitoring_at).toBe('2026-11-30T08:30:00.000Z');
    expect(s.summary.incidents).toEqual(s.unresolved.incidents);
  });

  it('lists at most 50 incidents, open first', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ ...closed, id: `canvas.run-${i + 10}` }));
    const s = statuspageShapes(board({ incidents: [open], history: many }), page);
    expect(s.incidents.incidents).toHaveLength(50);
    expect(s.incidents.incidents[0]!.id).toBe('fs.run-2');
  });
});
