/**
 * The postmortem on a real dev server with real mail, durations compressed: an incident that resolved
 * on a Friday afternoon before a Monday holiday gets its meeting on the next working-day slot after the
 * delay, as a real iCalendar invitation, with the draft holding every timeline event in UTC and the
 * changes to the affected host listed as the first candidates for the cause.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import ICAL from 'ical.js';
import { Worker } from '@temporalio/worker';
import { startSmtpServer, type ReceivedMail } from '../helpers/smtp-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { people } from '../helpers/incident-fixture.js';
import { shiftedIncident, startPostmortem } from '../helpers/postmortem-fixture.js';
import type { Check } from '../../domain/config-schema.js';
import type { IncidentView } from '../../domain/incident.js';
import { mdCell } from '../../domain/postmortem.js';
import { postmortemWorkflowId, type PostmortemView } from '../../workflows/postmortem-definitions.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

describe('postmortem: the Friday-afternoon incident', () => {
  let smtp: Smtp;
  let h: Harness;
  let serviceId: string;
  let view: IncidentView;
  let ownerMail: ReceivedMail;

  const checks = [
    {
      id: 'ssh-datasync',
      service: 'datasync02',
      kind: 'ssh',
      host: 'w3prod-datasync02.example.edu',
      port: 22,
      expectExitCode: 0,
    },
  ] as Check[];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig();
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config, smtpUrl: smtp.url });

    // Friday 22 May 2026, 14:40 in Oslo (12:40Z); Monday the 25th is Whit Monday, a configured holiday.
    view = shiftedIncident({ serviceId, resolvedAt: '2026-05-22T12:40:00.000Z' });

    const change = async (body: object) => {
      const r = await h.app.inject({
        method: 'POST',
        url: '/api/changes',
        headers: h.auth('kari'),
        payload: body,
      });
      expect(r.statusCode, r.body).toBe(201);
    };
    // The cause, in the hours before the fault; noise on another host; and an old change to the same host.
    await change({
      id: 'CHG-1042',
      who: 'netops',
      what: 'firewall: block inbound SSH from outside the campus network',
      hosts: ['w3prod-datasync02'],
      at: '2026-05-22T06:15:00Z',
    });
    await change({
      who: 'webops',
      what: 'deploy portal 4.2',
      hosts: ['w3prod-web01'],
      at: '2026-05-22T07:00:00Z',
    });
    await change({
      who: 'netops',
      what: 'kernel patch',
      hosts: ['w3prod-datasync02'],
      at: '2026-05-18T07:00:00Z',
    });
    // During the incident: the fix.
    await change({
      who: 'netops',
      what: 'firewall rule reverted',
      services: [serviceId],
      at: '2026-05-22T12:35:00+00:00',
    });

    await startPostmortem(h, {
      view,
      owner: people.owner,
      dueDays: 5,
      publicBaseUrl: 'http://127.0.0.1:3000',
      checks,
      settings: {
        meetingDelayWorkingDays: 1,
        meetingDurationMs: 3_600_000,
        workingHours: { start: '09:00', end: '16:00' },
        holidays: ['2026-05-25'],
        reminderIntervalMs: 3_600_000,
        changeWindowMs: 24 * 3_600_000,
      },
    });
    ownerMail = await smtp.waitFor(
      (m) =>
        m.to.includes(people.owner.email) && m.subject.includes(view.id) && /Postmortem due/.test(m.subject),
      20_000,
    );
  });

  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const attachment = (m: ReceivedMail, suffix: string) => {
    const a = m.attachments.find((x) => x.filename.endsWith(suffix));
    expect(a, `${suffix} attached to "${m.subject}"`).toBeDefined();
    return a!;
  };

  it('invites to the next working-day slot after the delay, skipping the weekend and the holiday', () => {
    const ics = attachment(ownerMail, '.ics');
    expect(ics.contentType).toBe('text/calendar');
    const cal = new ICAL.Component(ICAL.parse(ics.content.toString('utf8')));
    expect(cal.getFirstPropertyValue('method')).toBe('REQUEST');
    const event = new ICAL.Event(cal.getFirstSubcomponent('vevent')!);
    // One working day after Friday 14:40 is Tuesday (Monday is the holiday), 14:45 Oslo = 12:45Z.
    expect(event.startDate.zone.tzid).toBe('UTC');
    expect(event.startDate.toJSDate().toISOString()).toBe('2026-05-26T12:45:00.000Z');
    expect(event.endDate.toJSDate().toISOString()).toBe('2026-05-26T13:45:00.000Z');
    expect(event.uid).toBe(`postmortem-${view.id}@incident-orchestrator`);
    expect(event.organizer).toBe(`mailto:${people.owner.email}`);
    expect(event.attendees.map((a) => a.getFirstValue())).toEqual([
      `mailto:${people.owner.email}`,
      `mailto:${people.security.email}`,
      `mailto:${people.productOwner.email}`,
    ]);
    expect(ownerMail.text).toContain(
      'The postmortem meeting: 2026-05-26 at 14:45 (Europe/Oslo), 2026-05-26 12:45 UTC',
    );
  });

  it('sends the invitation with the draft to everyone who was paged or acted', async () => {
    const invite = await smtp.waitFor(
      (m) => m.subject.includes('Invitation: postmortem') && m.text.includes(view.id),
    );
    expect(invite.to.sort()).toEqual([people.productOwner.email, people.security.email].sort());
    const ics = attachment(invite, '.ics').content.toString('utf8');
    expect(ics).toBe(attachment(ownerMail, '.ics').content.toString('utf8'));
    expect(attachment(invite, '.md').content.toString('utf8')).toBe(
      attachment(ownerMail, '.md').content.toString('utf8'),
    );
  });

  it('the draft has every timeline event, in order, in UTC', () => {
    const md = attachment(ownerMail, '.md').content.toString('utf8');
    const rows = md
      .slice(md.indexOf('## Timeline (UTC)'), md.indexOf('## Five whys'))
      .split('\n')
      .filter((l) => /^\| \d{4}-/.test(l));
    expect(rows).toEqual(
      view.timeline.map((e) => `| ${e.at} | ${e.actor} | ${e.kind} | ${mdCell(e.detail)} |`),
    );
    for (const e of view.timeline) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(md).toContain(
      '| Postmortem meeting | 2026-05-26 12:45–13:45 UTC (2026-05-26 14:45 Europe/Oslo) |',
    );
    expect(md).toContain('| Postmortem due | 2026-05-27 |');
  });

  it('lists the change to the affected host before the fault as the first candidate, and only that', () => {
    const md = attachment(ownerMail, '.md').content.toString('utf8');
    const whys = md.slice(md.indexOf('## Five whys'), md.indexOf('## Lessons learned'));
    expect(whys).toContain('firewall: block inbound SSH from outside the campus network');
    expect(whys).toContain('_was it the change at 2026-05-22T06:15:00.000Z by netops');
    expect(whys).not.toContain('deploy portal');
    expect(whys).not.toContain('kernel patch');
    expect(md).toContain('firewall rule reverted');
  });

  it('serves the draft as Markdown, and the schedule as JSON', async () => {
    const r = await h.app.inject({
      method: 'GET',
      url: `/api/incidents/${view.id}/postmortem`,
      headers: h.auth('kari'),
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/markdown/);
    expect(r.body).toContain('## Timeline (UTC)');
    const j = await eventually(async () => {
      const x = await h.app.inject({
        method: 'GET',
        url: `/api/incidents/${view.id}/postmortem`,
        headers: { ...h.auth('kari'), accept: 'application/json' },
      });
      return x.statusCode === 200 ? (x.json() as PostmortemView) : undefined;
    });
    expect(j).toMatchObject({
      incidentId: view.id,
      state: 'due',
      dueDate: '2026-05-27',
      overdueAt: '2026-05-27T22:00:00.000Z',
      meeting: { start: '2026-05-26T12:45:00.000Z', local: { date: '2026-05-26', time: '14:45' } },
    });
  });

  it('finishes once marked done, and its history replays against the current code', async () => {
    const done = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${view.id}/postmortem/complete`,
      headers: h.auth('kari'),
      payload: { url: 'https://wiki.example/postmortems/fs-canvas-2026-05-22' },
    });
    expect(done.statusCode, done.body).toBe(200);
    const handle = h.client.workflow.getHandle(postmortemWorkflowId(view.id));
    const result = await handle.result();
    expect(result).toMatchObject({
      dueDate: '2026-05-27',
      url: 'https://wiki.example/postmortems/fs-canvas-2026-05-22',
    });
    expect(result.markdown).toContain('| Completed |');
    const history = await handle.fetchHistory();
    // Its mails went through the one outbound port: `deliver`, each in the shared sent ledger as email.
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name
        ? [e.activityTaskScheduledEventAttributes.activityType.name]
        : [],
    );
    expect(scheduled).toContain('deliver');
    expect(scheduled).not.toContain('sendEmail');
    const ledger = await h.store.db.query<{ idempotency_key: string; channel: string }>(
      'SELECT idempotency_key, channel FROM sent_ledger WHERE idempotency_key LIKE $1 ORDER BY idempotency_key',
      [`${postmortemWorkflowId(view.id)}/%`],
    );
    expect(ledger.rows).toEqual(
      expect.arrayContaining([
        { idempotency_key: `${postmortemWorkflowId(view.id)}/draft`, channel: 'email' },
        { idempotency_key: `${postmortemWorkflowId(view.id)}/invite`, channel: 'email' },
      ]),
    );
    if (process.env.RECORD_POSTMORTEM_HISTORY) {
      // RECORD_POSTMORTEM_HISTORY=<file> keeps this run's history as a replay fixture (test/fixtures/).
      const json = execFileSync(inject('temporalCli'), [
        'workflow',
        'show',
        '--address',
        inject('temporalAddress'),
        '-w',
        postmortemWorkflowId(view.id),
        '--output',
        'json',
      ]);
      writeFileSync(process.env.RECORD_POSTMORTEM_HISTORY, json);
    }
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      history,
      postmortemWorkflowId(view.id),
    );
  });
});
