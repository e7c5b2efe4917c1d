/**
 * Chasing the postmortem on a real dev server with real mail, reminder intervals in seconds: the owner
 * is reminded while it is open and no more once it is done; an overdue postmortem reaches the level
 * above the owner; a follow-up task is reminded to its owner on its due date.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { people } from '../helpers/incident-fixture.js';
import { shiftedIncident, startPostmortem, todayIn } from '../helpers/postmortem-fixture.js';
import type { EscalationStep, Recipient } from '../../domain/incident.js';
import type { PostmortemView } from '../../workflows/postmortem-definitions.js';

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const step = (level: number, recipients: Recipient[]): EscalationStep => ({
  level,
  cycle: 0,
  fallback: false,
  recipients,
  waitMs: 60_000,
});

describe('postmortem follow-up', () => {
  let smtp: Smtp;
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig();
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config, smtpUrl: smtp.url });
  });

  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const post = (url: string, payload: object) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth('kari') });
  const state = async (id: string) => {
    const r = await h.app.inject({
      method: 'GET',
      url: `/api/incidents/${id}/postmortem`,
      headers: { ...h.auth('kari'), accept: 'application/json' },
    });
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as PostmortemView;
  };

  it('reminds the owner while it is open, and stops once it is marked done', async () => {
    // Resolved just now and due in five days: reminders, but nothing overdue.
    const view = shiftedIncident({ serviceId, resolvedAt: new Date().toISOString() });
    await startPostmortem(h, {
      view,
      owner: people.owner,
      dueDays: 5,
      settings: { reminderIntervalMs: 1500 },
    });
    const isReminder = (m: { subject: string; to: string[] }) =>
      m.subject.includes(view.id) && /Reminder #\d+/.test(m.subject) && m.to.includes(people.owner.email);
    const first = await smtp.waitForCount(isReminder, 2, 15_000);
    expect(first.map((m) => m.subject.match(/#\d+/)![0])).toEqual(['#1', '#2']);
    expect(first[0]!.text).toContain(
      `A reminder: the postmortem of incident ${view.id} (FS → Canvas integration) is due ${todayIn('Europe/Oslo', 5)}.`,
    );

    const done = await post(`/api/incidents/${view.id}/postmortem/complete`, {
      url: 'https://wiki.example/pm/42',
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({
      state: 'completed',
      completedBy: 'kari',
      url: 'https://wiki.example/pm/42',
    });
    const after = smtp.messages.filter(isReminder).length;
    await sleep(4000);
    expect(smtp.messages.filter(isReminder).length).toBe(after);
    expect(smtp.messages.some((m) => m.subject.includes(view.id) && /OVERDUE/.test(m.subject))).toBe(false);
    // Done and no follow-up pending: the postmortem workflow has finished.
    await eventually(async () => {
      const d = await h.client.workflow.getHandle(`postmortem-${view.id}`).describe();
      return d.status.name === 'COMPLETED';
    });
  });

  it('a postmortem left open continues as new, carrying its state, without sending the draft again', async () => {
    const view = shiftedIncident({ serviceId, resolvedAt: new Date().toISOString() });
    const handle = await startPostmortem(h, {
      view,
      owner: people.owner,
      dueDays: 5,
      settings: { reminderIntervalMs: 1000 },
      maxRemindersPerRun: 2,
    });
    const follow = await post(`/api/incidents/${view.id}/follow-ups`, {
      title: 'Alerting on the import',
      owner: 'ola',
      dueDate: todayIn('Europe/Oslo', 30),
    });
    expect(follow.statusCode, follow.body).toBe(201);
    const reminders = await smtp.waitForCount(
      (m) => m.subject.includes(view.id) && /Reminder #\d+/.test(m.subject),
      5,
      20_000,
    );
    expect(reminders.map((m) => m.subject.match(/#\d+/)![0])).toEqual(['#1', '#2', '#3', '#4', '#5']);
    const d = await h.client.workflow.getHandle(handle.workflowId).describe();
    expect(d.runId).not.toBe(handle.firstExecutionRunId);
    expect(
      smtp.messages.filter((m) => m.subject.includes(view.id) && /Postmortem due/.test(m.subject)),
    ).toHaveLength(1);
    const s = await state(view.id);
    expect(s.remindersSent).toBeGreaterThanOrEqual(5);
    expect(s.followUps.map((f) => f.title)).toEqual(['Alerting on the import']);
    expect(s.markdown).toContain('| Alerting on the import |');
    const done = await post(`/api/incidents/${view.id}/postmortem/complete`, {
      url: 'https://wiki.example/pm/46',
    });
    expect(done.statusCode, done.body).toBe(200);
  });

  it('an overdue postmortem reaches the level above the owner, once', async () => {
    // Resolved on 22 May, due three days later: long overdue today.
    const view = shiftedIncident({ serviceId, resolvedAt: '2026-05-22T12:40:00.000Z' });
    const ola = { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' };
    const ingrid = { id: 'ingrid', name: 'Ingrid Berg', email: 'ingrid@test.local' };
    await startPostmortem(h, {
      view,
      owner: people.owner,
      dueDays: 3,
      plan: [step(1, [people.owner]), step(2, [ola]), step(3, [ingrid])],
      settings: { reminderIntervalMs: 2000, overdueAfterMs: 0 },
    });
    const notice = await smtp.waitFor(
      (m) => m.subject.includes(view.id) && /Postmortem OVERDUE/.test(m.subject),
      15_000,
    );
    expect(notice.to).toEqual([ola.email]);
    expect(notice.subject).toContain('owner Kari Nordmann, due 2026-05-25');
    const reminder = await smtp.waitFor(
      (m) => m.subject.includes(view.id) && /OVERDUE #1/.test(m.subject),
      15_000,
    );
    expect(reminder.to).toEqual([people.owner.email]);

    const s = await state(view.id);
    expect(s.escalatedTo?.map((r) => r.id)).toEqual(['ola']);
    expect(s.overdueAt).toBe('2026-05-25T22:00:00.000Z');

    // Told once, not at every reminder.
    await smtp.waitFor((m) => m.subject.includes(view.id) && /OVERDUE #2/.test(m.subject), 15_000);
    expect(
      smtp.messages.filter((m) => m.subject.includes(view.id) && /Postmortem OVERDUE/.test(m.subject)),
    ).toHaveLength(1);
    expect(smtp.messages.some((m) => m.to.includes(ingrid.email))).toBe(false);
    await post(`/api/incidents/${view.id}/postmortem/complete`, { url: 'https://wiki.example/pm/43' });
  });

  it('without the plan (as today’s incident starts it), the level above comes from who was paged', async () => {
    const view = shiftedIncident({ serviceId, resolvedAt: '2026-05-22T12:40:00.000Z' });
    await startPostmortem(h, { view, owner: people.owner, dueDays: 3, settings: { overdueAfterMs: 0 } });
    const notice = await smtp.waitFor(
      (m) => m.subject.includes(view.id) && /Postmortem OVERDUE/.test(m.subject),
      15_000,
    );
    // Kari was paged at level 1; level 2 was the security mailbox.
    expect(notice.to).toEqual([people.security.email]);
    await post(`/api/incidents/${view.id}/postmortem/complete`, { url: 'https://wiki.example/pm/44' });
  });

  it('reminds a follow-up task’s owner on its due date, and not before', async () => {
    const view = shiftedIncident({ serviceId, resolvedAt: new Date().toISOString() });
    // Working hours from midnight: a task due today is reminded at once, one due tomorrow is not.
    await startPostmortem(h, {
      view,
      owner: people.owner,
      dueDays: 5,
      settings: { workingHours: { start: '00:00', end: '23:59' } },
    });
    const today = todayIn('Europe/Oslo');
    const tomorrow = todayIn('Europe/Oslo', 1);
    const now = await post(`/api/incidents/${view.id}/follow-ups`, {
      title: 'Alert when the import does not go through',
      owner: 'ola',
      dueDate: today,
    });
    expect(now.statusCode, now.body).toBe(201);
    const later = await post(`/api/incidents/${view.id}/follow-ups`, {
      title: 'Change-notification process with the server operators',
      owner: 'ingrid',
      dueDate: tomorrow,
    });
    expect(later.statusCode, later.body).toBe(201);

    const reminder = await smtp.waitFor(
      (m) => m.subject.includes('Follow-up due') && m.text.includes(view.id),
      15_000,
    );
    expect(reminder.to).toEqual(['ola@test.local']);
    expect(reminder.subject).toBe(`[P1] Follow-up due ${today}: Alert when the import does not go through`);

    const s = await eventually(async () => {
      const v = await state(view.id);
      return v.followUps[0]?.remindedAt ? v : undefined;
    });
    expect(s.followUps.map((f) => [f.owner.id, f.dueDate, !!f.remindedAt])).toEqual([
      ['ola', today, true],
      ['ingrid', tomorrow, false],
    ]);
    expect(s.markdown).toContain(
      `| Alert when the import does not go through | Ola Hansen \\<ola@test.local\\> | ${today} |`,
    );
    expect(smtp.messages.some((m) => m.to.includes('ingrid@test.local'))).toBe(false);

    // Marked done, the workflow stays until tomorrow's task is reminded.
    const done = await post(`/api/incidents/${view.id}/postmortem/complete`, {
      url: 'https://wiki.example/pm/45',
    });
    expect(done.statusCode).toBe(200);
    await sleep(500);
    const d = await h.client.workflow.getHandle(`postmortem-${view.id}`).describe();
    expect(d.status.name).toBe('RUNNING');
  });

  it('marks follow-ups done one by one (API and console); the postmortem stays until the last is done', async () => {
    const view = shiftedIncident({ serviceId, resolvedAt: new Date().toISOString() });
    await startPostmortem(h, { view, owner: people.owner, dueDays: 5 });
    const due = todayIn('Europe/Oslo', 3);
    for (const title of [
      'Alert when the import does not go through',
      'Firewall change review with the hosting team',
    ])
      expect(
        (await post(`/api/incidents/${view.id}/follow-ups`, { title, owner: 'ola', dueDate: due }))
          .statusCode,
      ).toBe(201);
    const done = await post(`/api/incidents/${view.id}/postmortem/complete`, {
      url: 'https://wiki.example/pm/46',
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({
      state: 'completed',
      completedBy: 'kari',
      url: 'https://wiki.example/pm/46',
    });

    // The first one, through the API.
    const f1 = await post(`/api/incidents/${view.id}/follow-ups/f1/done`, {});
    expect(f1.statusCode, f1.body).toBe(200);
    expect(f1.json()).toMatchObject({
      id: 'f1',
      doneBy: 'kari',
      title: 'Alert when the import does not go through',
    });
    const again = await post(`/api/incidents/${view.id}/follow-ups/f1/done`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/^follow-up f1 was already marked done at .* by kari$/);
    const unknown = await post(`/api/incidents/${view.id}/follow-ups/f9/done`, {});
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toContain('has no follow-up "f9"');

    // Still running: the second is open. The console shows one done, one with its button.
    const handle = h.client.workflow.getHandle(`postmortem-${view.id}`);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const page = await h.app.inject({
      method: 'GET',
      url: `/console/incidents/${view.id}/postmortem`,
      headers: h.auth('kari'),
    });
    expect(page.statusCode).toBe(200);
    const row = (id: string) =>
      new RegExp(`<tr data-follow-up="${id}">([\\s\\S]*?)</tr>`).exec(page.body)?.[1] ?? '';
    expect(row('f1')).toContain('>done</span>');
    expect(row('f1')).not.toContain('Mark done');
    expect(row('f2')).toContain(`action="/console/incidents/${view.id}/follow-ups/f2/done"`);

    // The second, through the console form: back to the page, and the workflow ends.
    const form = await h.app.inject({
      method: 'POST',
      url: `/console/incidents/${view.id}/follow-ups/f2/done`,
      headers: { ...h.auth('kari'), 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(form.statusCode, form.body).toBe(303);
    expect(form.headers.location).toBe(`/console/incidents/${view.id}/postmortem?done=f2`);
    await eventually(async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : undefined));
    // The record (from the store now) and the draft say who did each, and when.
    const s = await state(view.id);
    expect(s.followUps.map((f) => [f.id, f.doneBy, !!f.doneAt])).toEqual([
      ['f1', 'kari', true],
      ['f2', 'kari', true],
    ]);
    expect(s.markdown).toMatch(/\| Alert when the import does not go through \| .* \| done \S+ by kari \|/);
    // Nobody was reminded of a task done before its due date.
    expect(smtp.messages.some((m) => m.subject.includes('Follow-up due') && m.text.includes(view.id))).toBe(
      false,
    );
  });

  it('moves the meeting (updated invitation, same UID, SEQUENCE + 1) and cancels it (METHOD:CANCEL), to everyone invited', async () => {
    const view = shiftedIncident({ serviceId, resolvedAt: new Date().toISOString() });
    await startPostmortem(h, { view, owner: people.owner, dueDays: 5 });
    const before = await eventually(async () => {
      const v = await state(view.id);
      return v.meeting.attendees.length > 0 ? v : undefined;
    });
    const invited = before.meeting.attendees.map((a) => a.email).sort();
    const ics = (m: { attachments: { filename: string; content: Buffer }[] }) => {
      const a = m.attachments.find((x) => x.filename.endsWith('.ics'));
      expect(a).toBeDefined();
      const cal = new ICAL.Component(ICAL.parse(a!.content.toString('utf8')));
      const vevent = cal.getFirstSubcomponent('vevent')!;
      return { cal, vevent, event: new ICAL.Event(vevent) };
    };

    const start = new Date(Date.now() + 3 * 86_400_000);
    start.setUTCHours(9, 0, 0, 0);
    const moved = await post(`/api/incidents/${view.id}/postmortem/meeting`, { start: start.toISOString() });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ start: start.toISOString(), sequence: 1 });
    const update = await smtp.waitFor(
      (m) => /Moved: postmortem/.test(m.subject) && m.text.includes(view.id),
      15_000,
    );
    expect(update.to.sort()).toEqual(invited);
    expect(update.text).toContain(`  was:    ${before.meeting.local.date} at ${before.meeting.local.time}`);
    const u = ics(update);
    expect(u.cal.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(u.event.uid).toBe(`postmortem-${view.id}@incident-orchestrator`);
    expect(u.event.sequence).toBe(1);
    expect(u.event.startDate.toJSDate().toISOString()).toBe(start.toISOString());
    // The same length as before.
    expect(u.event.endDate.toJSDate().getTime() - start.getTime()).toBe(
      Date.parse(before.meeting.end) - Date.parse(before.meeting.start),
    );

    const past = await post(`/api/incidents/${view.id}/postmortem/meeting`, {
      start: '2020-01-01T09:00:00Z',
    });
    expect(past.statusCode).toBe(400);
    expect(past.json().message).toContain('is not in the future');

    const cancelled = await post(`/api/incidents/${view.id}/postmortem/meeting/cancel`, {
      reason: 'Everyone is at the campus outage; we write it asynchronously',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ sequence: 2, cancelled: { by: 'kari' } });
    const cancel = await smtp.waitFor(
      (m) => /Cancelled: postmortem/.test(m.subject) && m.text.includes(view.id),
      15_000,
    );
    expect(cancel.to.sort()).toEqual(invited);
    const c = ics(cancel);
    expect(c.cal.getFirstPropertyValue('method')).toBe('CANCEL');
    expect(c.event.uid).toBe(u.event.uid);
    expect(c.event.sequence).toBe(2);
    expect(c.vevent.getFirstPropertyValue('status')).toBe('CANCELLED');
    const again = await post(`/api/incidents/${view.id}/postmortem/meeting/cancel`, { reason: 'again' });
    expect(again.statusCode).toBe(409);
    expect((await state(view.id)).meeting).toMatchObject({ sequence: 2, cancelled: { by: 'kari' } });
    await post(`/api/incidents/${view.id}/postmortem/complete`, { url: 'https://wiki.example/pm/47' });
  });
});
