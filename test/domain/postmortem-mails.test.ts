import { describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import type { MeetingInfo } from '../../domain/postmortem.js';
import {
  followUpReminderMail,
  postmortemInvitation,
  postmortemInviteMail,
  postmortemMail,
  postmortemOverdueMail,
  postmortemReminderMail,
} from '../../domain/templates.js';
import { buildIncidentView, people } from '../helpers/incident-fixture.js';

const view = buildIncidentView();
const links = {
  incidentUrl: 'https://incidents.uni.example/api/incidents/inc-20220614-datasync',
  postmortemUrl: 'https://incidents.uni.example/api/incidents/inc-20220614-datasync/postmortem',
};
const meeting: MeetingInfo = {
  start: '2022-06-16T07:15:00.000Z',
  end: '2022-06-16T08:15:00.000Z',
  local: { date: '2022-06-16', time: '09:15', timeZone: 'Europe/Oslo' },
  attendees: [people.owner, people.security, people.productOwner],
};
const ics = postmortemInvitation(view, people.owner, meeting, Date.parse('2022-06-14T09:11:05Z'), links);

describe('postmortem mails', () => {
  it('the invitation: stable UID per incident, the owner organizes and chairs, everyone else invited', () => {
    const event = new ICAL.Event(new ICAL.Component(ICAL.parse(ics)).getFirstSubcomponent('vevent')!);
    expect(event.uid).toBe('postmortem-inc-20220614-datasync@incident-orchestrator');
    expect(event.startDate.toJSDate().toISOString()).toBe(meeting.start);
    expect(event.endDate.toJSDate().toISOString()).toBe(meeting.end);
    expect(event.summary).toBe(
      'Postmortem: FS → Canvas integration (P1) — SSH to w3prod-datasync02 refused: the nightly XML export cannot be fetched',
    );
    expect(event.organizer).toBe('mailto:kari@uni.example');
    expect(event.attendees.map((a) => `${a.getParameter('role')} ${a.getFirstValue()}`)).toEqual([
      'CHAIR mailto:kari@uni.example',
      'REQ-PARTICIPANT mailto:security@uni.example',
      'REQ-PARTICIPANT mailto:ola@uni.example',
    ]);
    // The same incident and meeting give the same invitation (a re-send updates, not duplicates).
    expect(postmortemInvitation(view, people.owner, meeting, Date.parse('2022-06-14T09:11:05Z'), links)).toBe(
      ics,
    );
  });

  it('the owner’s mail carries the draft and the invitation, and says how to mark it done', () => {
    const m = postmortemMail(view, '# draft', '2022-06-21', people.owner, links, {
      meeting,
      invitation: ics,
    });
    expect(m.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ['postmortem-inc-20220614-datasync.md', 'text/markdown; charset=utf-8'],
      ['invite.ics', 'text/calendar; charset=utf-8; method=REQUEST'],
    ]);
    expect(m.text).toContain(
      'The postmortem meeting: 2022-06-16 at 09:15 (Europe/Oslo), 2022-06-16 07:15 UTC',
    );
    expect(m.text).toContain('Invited with you: Security mailbox, Ola Hansen.');
    expect(m.text).toContain(`-d '{"url":"https://…"}' ${links.postmortemUrl}/complete`);
    expect(m.text).toContain("-H 'content-type: application/json' \\\n");
  });

  it('the invitation mail to the others names the owner and carries both files', () => {
    const m = postmortemInviteMail(view, people.owner, meeting, '# draft', ics, links);
    expect(m.subject).toBe('[P1] Invitation: postmortem of FS → Canvas integration, 2022-06-16 09:15');
    expect(m.text).toContain('Kari Nordmann <kari@uni.example> owns its postmortem');
    expect(m.attachments.map((a) => a.filename)).toEqual([
      'invite.ics',
      'postmortem-inc-20220614-datasync.md',
    ]);
  });

  it('reminders count, and say when it is overdue', () => {
    const r1 = postmortemReminderMail(
      view,
      people.owner,
      { dueDate: '2022-06-21', number: 1, overdue: false },
      links,
    );
    expect(r1.subject).toBe(
      '[P1] Reminder #1: postmortem FS → Canvas integration (inc-20220614-datasync) due 2022-06-21',
    );
    const r5 = postmortemReminderMail(
      view,
      people.owner,
      { dueDate: '2022-06-21', number: 5, overdue: true, meeting },
      links,
    );
    expect(r5.subject).toMatch(/^\[P1\] OVERDUE #5: /);
    expect(r5.text).toContain('was due 2022-06-21 and is not marked done yet');
  });

  it('the overdue notice to the level above names the owner and the reminders', () => {
    const m = postmortemOverdueMail(view, people.owner, people.security, '2022-06-21', 3, links);
    expect(m.subject).toBe(
      '[P1] Postmortem OVERDUE: FS → Canvas integration (inc-20220614-datasync), owner Kari Nordmann, due 2022-06-21',
    );
    expect(m.text).toMatch(/^Hi Security mailbox,\n/);
    expect(m.text).toContain(
      'Its owner, Kari Nordmann <kari@uni.example>, has not marked it done after 3 reminders.',
    );
  });

  it('a follow-up reminder goes to the task’s owner', () => {
    const m = followUpReminderMail(
      view,
      {
        id: 'f1',
        title: 'Alert when the import does not go through',
        owner: people.productOwner,
        dueDate: '2022-07-01',
        recordedBy: 'kari',
        recordedAt: '2022-06-16T09:00:00.000Z',
      },
      links,
    );
    expect(m.subject).toBe('[P1] Follow-up due 2022-07-01: Alert when the import does not go through');
    expect(m.text).toMatch(/^Hi Ola Hansen,\n/);
  });
});
