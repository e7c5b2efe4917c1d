/**
 * Handoff notices on a real record store and a real SMTP server: the incoming person gets one email
 * within the notice time before their shift (in the schedule's zone, naming whom they take over
 * from), never twice (also not from a second worker), not earlier; a refused send is tried again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateConfig } from '../../config/load.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { createScheduleRecords } from '../../store/schedules.js';
import { createHandoffNotices } from '../../worker/handoff-notices.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { freshStore, type TestStore } from '../helpers/store.js';

const config = validateConfig(
  {
    contacts: [
      { id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' },
      { id: 'ola', name: 'Ola Hansen', email: 'ola@test.local' },
    ],
    schedules: [
      {
        id: 'integration',
        name: 'Integration team',
        handoffNotice: '1h',
        layers: [
          {
            rotation: {
              participants: ['kari', 'ola'],
              shiftLength: 1,
              shiftUnit: 'weeks',
              handoff: '09:00',
              timeZone: 'Europe/Oslo',
              start: '2027-03-15',
            },
          },
        ],
      },
    ],
    policies: [
      {
        id: 'chain',
        levels: [{ notify: ['schedule:integration'], ackTimeout: '5m' }],
        acknowledgementTimeout: '1h',
      },
    ],
    services: [{ id: 'fs-canvas', name: 'FS', owner: 'kari', policy: 'chain' }],
  },
  'test',
);

describe('handoff notices', () => {
  let store: TestStore;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const dir = mkdtempSync(path.join(tmpdir(), 'handoff-'));
  const emails: ReturnType<typeof createEmailNotifier>[] = [];
  const worker = (name: string) => {
    const email = createEmailNotifier({
      smtpUrl: smtp.url,
      outboxDir: path.join(dir, name, 'outbox'),
      ledgerDir: path.join(dir, name, 'sent'),
      from: 'Incident Orchestrator <incidents@test.local>',
      log: () => undefined,
    });
    emails.push(email);
    return createHandoffNotices({
      config,
      schedules: createScheduleRecords(store.db),
      email,
      publicBaseUrl: 'http://127.0.0.1:3000',
      workerName: name,
      log: () => undefined,
    });
  };

  beforeAll(async () => {
    store = await freshStore();
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    for (const e of emails) e.close();
    await smtp?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells the incoming person once, within the hour before the shift, in the schedule zone', async () => {
    // Monday 2027-03-29 09:00 CEST (07:00Z, the first handoff after spring-forward): Ola → Kari.
    const a = worker('a');
    const b = worker('b');
    expect(await a.tick(Date.parse('2027-03-29T05:30:00Z'))).toEqual([]); // 2 h 30 before: too early
    expect(await a.tick(Date.parse('2027-03-29T06:10:00Z'))).toEqual([
      { scheduleId: 'integration', to: 'kari', at: Date.parse('2027-03-29T07:00:00Z') },
    ]);
    // A minute later, and from another worker: nothing more.
    expect(await a.tick(Date.parse('2027-03-29T06:11:00Z'))).toEqual([]);
    expect(await b.tick(Date.parse('2027-03-29T06:11:00Z'))).toEqual([]);
    const mail = await smtp.waitFor((m) => m.to.includes('kari@test.local'), 10_000);
    expect(mail.subject).toBe('You are on call from Mon 2027-03-29 09:00 (Europe/Oslo): Integration team');
    expect(mail.text).toContain('runs Mon 2027-03-29 09:00 – Mon 2027-04-05 09:00 Europe/Oslo');
    expect(mail.text).toContain('You take over from Ola Hansen.');
    expect(smtp.messages.filter((m) => m.to.includes('kari@test.local'))).toHaveLength(1);
  });

  it('a refused send is tried again at the next look', async () => {
    const a = worker('c');
    smtp.rejectNext(451, 'try again later');
    // Monday 2027-04-05 09:00 CEST: Kari → Ola.
    expect(await a.tick(Date.parse('2027-04-05T06:30:00Z'))).toEqual([]);
    expect(await a.tick(Date.parse('2027-04-05T06:31:00Z'))).toEqual([
      { scheduleId: 'integration', to: 'ola', at: Date.parse('2027-04-05T07:00:00Z') },
    ]);
    await smtp.waitFor((m) => m.to.includes('ola@test.local') && m.subject.includes('2027-04-05'), 10_000);
  });
});
