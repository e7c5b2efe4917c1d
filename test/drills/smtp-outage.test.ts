/**
 * Fault drill 3: the mail server refuses connections while an incident escalates through every level.
 * The timeline shows each failed attempt, the attempts of a page are spaced with exponential backoff
 * (2 s, 4 s, 8 s …, read from the timeline, so it holds however the retries are implemented), each page
 * is delivered exactly once when the server is back, and the escalation clock does not wait for the
 * failing channel: each level is paged on schedule, measured on the view's `paged[].at` (recorded when
 * the workflow decides to page, not when the mail goes out). The team's chat webhook, configured here,
 * is tried while mail is down.
 *
 * One scenario runs in `beforeAll`; each property is its own test, so one failing does not hide the
 * others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateConfig } from '../../config/load.js';
import type { IncidentView, TimelineEvent } from '../../domain/incident.js';
import { pageKey, tally } from '../helpers/stack.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp-server.js';

const levelTimeoutMs = 3000;
/** How late a level may be paged, on a loaded CI machine; a page held up by mail would be ≥ 8 s late. */
const lateMarginMs = 1500;
const recipients = ['kari', 'ola', 'ingrid', 'per'] as const;
const email = (id: string) => `${id}@test.local`;

/** Timeline events about a page to `id` that could not be delivered (whatever the kind is called). */
const failedAttempts = (timeline: readonly TimelineEvent[], id: string) =>
  timeline.filter((e) => e.kind.startsWith('page') && e.kind !== 'paged' && e.detail.includes(email(id)));
const delivered = (timeline: readonly TimelineEvent[], id: string) =>
  timeline.filter((e) => e.kind === 'paged' && e.detail.includes(email(id)));

describe('drill: the mail server refuses connections during escalation', () => {
  let smtp: TestSmtpServer;
  let h: Harness;
  let id: string;
  let declaredAt: number;
  let acceptAt: number;
  /** The view just before the mail server came back. */
  let during: IncidentView;
  /** The view once every page was delivered. */
  let after: IncidentView;
  let mails: ReceivedMail[];
  let hooks: Server | undefined;
  const hookCalls: { at: number; body: string }[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        hookCalls.push({ at: Date.now(), body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hooks!.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/chat`;
    const t = testConfig({ levelTimeout: `${levelTimeoutMs / 1000}s` });
    // The owner's team has a chat webhook: a second channel that works while mail does not.
    const config = validateConfig(
      {
        ...JSON.parse(JSON.stringify(t.config)),
        teams: [
          { id: 'ops', name: 'Operations', members: ['kari'], webhooks: [{ format: 'json', url: hookUrl }] },
        ],
      },
      'drill',
    );
    h = await startHarness({ config, smtpUrl: smtp.url });
    await smtp.refuse();

    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service: t.serviceId, reason: 'the export server does not answer' },
    });
    expect(declared.statusCode).toBe(201);
    declaredAt = Date.now();
    id = (declared.json() as { incident: IncidentView }).incident.id;

    // The whole chain is paged while the server refuses; every page has failed at least once and the
    // level-1 page three times (at 0 s, 2 s and 6 s).
    during = await eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.paged.length === 4 &&
          failedAttempts(v.timeline, 'kari').length >= 3 &&
          recipients.every((r) => failedAttempts(v.timeline, r).length >= 1)
          ? v
          : undefined;
      },
      30_000,
      'four pages decided, each failed, the first three times',
    );
    await smtp.accept();
    acceptAt = Date.now();

    mails = await smtp.waitForCount((m) => m.text.includes(id), 4, 30_000);
    after = await eventually(
      async () => {
        const v = await h.incidents.get(id);
        return v.timeline.filter((e) => e.kind === 'paged').length === 4 ? v : undefined;
      },
      15_000,
      'four delivered pages in the timeline',
    );
    // A page sent twice would show up now.
    await new Promise((r) => setTimeout(r, 2000));
    mails = smtp.messages.filter((m) => m.text.includes(id));
    console.log(
      `[drill 3] server refused for ${((acceptAt - declaredAt) / 1000).toFixed(1)} s; every page ` +
        `delivered ${((Math.max(...mails.map((m) => m.receivedAt.getTime())) - acceptAt) / 1000).toFixed(1)} s later; ` +
        `failed attempts: ${recipients.map((r) => `${r} ${failedAttempts(after.timeline, r).length}`).join(', ')}; ` +
        `chat webhook calls: ${hookCalls.map((c) => (JSON.parse(c.body) as { type?: string }).type).join(', ')}`,
    );
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await smtp?.close();
    if (hooks) await new Promise((r) => hooks!.close(r));
  });

  it('escalation is not held up: each level is paged on schedule while no mail can go out', () => {
    expect(during.paged.map((p) => `${p.level}:${p.recipient.id}`)).toEqual([
      '1:kari',
      '2:ola',
      '3:ingrid',
      '0:per',
    ]);
    const at = during.paged.map((p) => Date.parse(p.at));
    for (let i = 1; i < at.length; i++) {
      const gap = at[i]! - at[i - 1]!;
      expect(gap, `level ${i} → ${i + 1}`).toBeGreaterThanOrEqual(levelTimeoutMs - 50);
      expect(gap, `level ${i} → ${i + 1}`).toBeLessThanOrEqual(levelTimeoutMs + lateMarginMs);
    }
    expect(at.at(-1)!).toBeLessThan(acceptAt);
    // No page was delivered while the server refused.
    expect(during.timeline.filter((e) => e.kind === 'paged')).toEqual([]);
  });

  it('the timeline shows the failed attempts while the server refuses', () => {
    for (const r of recipients) {
      const failed = failedAttempts(during.timeline, r);
      expect(failed.length, `failed attempts to email ${r} in the timeline`).toBeGreaterThanOrEqual(1);
      expect(failed[0]!.detail).toMatch(/ECONNREFUSED/);
    }
    // Nothing was delivered yet.
    expect(during.timeline.filter((e) => e.kind === 'paged')).toEqual([]);
  });

  it('a failing page is retried with exponential backoff until it is delivered, then no more', () => {
    for (const r of recipients) {
      const failed = failedAttempts(after.timeline, r);
      const done = delivered(after.timeline, r);
      expect(done, r).toHaveLength(1);
      // Attempt n+1 comes 2 s · 2^(n-1) after attempt n failed: 2 s, 4 s, 8 s … up to the delivery.
      const times = [...failed, done[0]!].map((e) => Date.parse(e.at));
      for (let i = 1; i < times.length; i++) {
        const expected = Math.min(60_000, 2000 * 2 ** (i - 1));
        const gap = times[i]! - times[i - 1]!;
        expect(gap, `${r}: attempt ${i} → ${i + 1}`).toBeGreaterThanOrEqual(expected - 100);
        expect(gap, `${r}: attempt ${i} → ${i + 1}`).toBeLessThanOrEqual(expected + lateMarginMs);
      }
      // Nothing failed after the delivery.
      expect(failed.every((e) => Date.parse(e.at) <= times.at(-1)!)).toBe(true);
    }
  });

  it('each page is delivered exactly once when the server is back', () => {
    expect(tally(mails.map(pageKey))).toEqual({
      'level 1 page → kari@test.local': 1,
      'level 2 page → ola@test.local': 1,
      'level 3 page → ingrid@test.local': 1,
      'final fallback page → per@test.local': 1,
    });
    expect(mails).toHaveLength(4);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(4);
    for (const m of mails) expect(m.receivedAt.getTime()).toBeGreaterThanOrEqual(acceptAt);
    // The timeline records each delivery once, after the server came back.
    for (const r of recipients) {
      const done = delivered(after.timeline, r);
      expect(done, r).toHaveLength(1);
      expect(Date.parse(done[0]!.at)).toBeGreaterThanOrEqual(acceptAt - 1000);
    }
    // Nobody acknowledged, so the incident still waits after the final fallback.
    expect(after.state).toBe('triggered');
  });

  it('the chat webhook, where configured, is tried while mail is down', () => {
    const mine = hookCalls.filter((c) => c.body.includes(id));
    expect(mine.length).toBeGreaterThanOrEqual(1);
    expect(mine[0]!.at).toBeLessThan(acceptAt);
  });
});
