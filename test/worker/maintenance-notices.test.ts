/**
 * Maintenance windows, on a real record store and a real SMTP server: subscribers of a covered
 * component are told when a weekly window starts and when it ends, once (not again at the next
 * look, nor from a second worker), not for a component the window does not cover, and not at all
 * once the window is long past. The status page and its Statuspage API show the window meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateConfig } from '../../config/load.js';
import { createEmailNotifier } from '../../activities/notifiers/email.js';
import { createSubscriberLinks } from '../../activities/subscriber-links.js';
import { createSubscriberRecords } from '../../store/subscribers.js';
import Fastify from 'fastify';
import { createStatusBoard } from '../../api/status-board.js';
import { statusPageRoutes } from '../../api/routes/status-page.js';
import { statuspageRoutes } from '../../api/routes/statuspage.js';
import { statuspageShapes } from '../../domain/statuspage.js';
import { monitorConfigFor } from '../../client/monitors.js';
import { createMaintenanceNotices } from '../../worker/maintenance-notices.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { freshStore, type TestStore } from '../helpers/store.js';

const config = validateConfig(
  {
    contacts: [{ id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' }],
    policies: [
      { id: 'chain', levels: [{ notify: ['kari'], ackTimeout: '5m' }], acknowledgementTimeout: '1h' },
    ],
    services: [
      {
        id: 'fs-canvas',
        name: 'FS → Canvas',
        component: 'Canvas grade import',
        owner: 'kari',
        policy: 'chain',
        subscribers: [
          { name: 'Universitetet i Oslo', email: 'drift@uio.test' },
          { name: 'NTNU', email: 'drift@ntnu.test' },
        ],
      },
      {
        id: 'portal',
        name: 'Portal',
        component: 'Student portal',
        owner: 'kari',
        policy: 'chain',
        subscribers: [{ name: 'UiB', email: 'drift@uib.test' }],
      },
    ],
    checks: [
      {
        id: 'canvas-port',
        name: 'Canvas port',
        service: 'fs-canvas',
        kind: 'tcp',
        host: '127.0.0.1',
        port: 9,
      },
    ],
    maintenance: [
      {
        id: 'db-patch',
        services: ['fs-canvas'],
        weekly: { days: ['tue'], at: '02:00' },
        duration: '2h',
        timeZone: 'Europe/Oslo',
        reason: 'database patching',
      },
    ],
  },
  'test',
);

// Tuesday 2027-03-30 02:00–04:00 CEST = 00:00–02:00Z (the first Tuesday after spring-forward).
const start = Date.parse('2027-03-30T00:00:00Z');
const end = Date.parse('2027-03-30T02:00:00Z');

describe('maintenance windows', () => {
  let store: TestStore;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const dir = mkdtempSync(path.join(tmpdir(), 'maintenance-'));
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
    return createMaintenanceNotices({
      config: () => config,
      subscribers: createSubscriberRecords(store.db),
      records: store.records,
      email,
      links: createSubscriberLinks({
        secret: 'maintenance-test-secret-0123456789',
        baseUrl: 'https://status.example',
      }),
      publicBaseUrl: 'https://status.example',
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

  it('tells the covered component’s subscribers once when the window starts, and once when it ends', async () => {
    const a = worker('a');
    const b = worker('b');
    expect(await a.tick(start - 60_000)).toEqual([]); // a minute early: nothing
    const started = await a.tick(start + 30_000);
    expect(started.map((n) => [n.event, n.to]).sort()).toEqual([
      ['started', 'drift@ntnu.test'],
      ['started', 'drift@uio.test'],
    ]);
    expect(await a.tick(start + 90_000)).toEqual([]);
    expect(await b.tick(start + 90_000)).toEqual([]);
    const mail = await smtp.waitFor((m) => m.to.includes('drift@uio.test'), 10_000);
    expect(mail.subject).toBe('[Maintenance] Canvas grade import: database patching');
    expect(mail.text).toContain('Window: Tue 2027-03-30 02:00–Tue 2027-03-30 04:00 (Europe/Oslo).');
    expect(mail.text).toMatch(/Unsubscribe: https:\/\/status\.example\/subscriptions\/unsubscribe\//);
    // The portal is not in the window: its subscriber hears nothing.
    expect(smtp.messages.some((m) => m.to.includes('drift@uib.test'))).toBe(false);

    const ended = await b.tick(end + 5 * 60_000);
    expect(ended.map((n) => [n.event, n.to]).sort()).toEqual([
      ['ended', 'drift@ntnu.test'],
      ['ended', 'drift@uio.test'],
    ]);
    await smtp.waitFor(
      (m) => m.to.includes('drift@ntnu.test') && m.subject.startsWith('[Maintenance completed]'),
      10_000,
    );
    expect(smtp.messages.filter((m) => m.text.includes('database patching'))).toHaveLength(4);
  });

  it('lets a start go that is more than 15 minutes old (a worker that was down for hours)', async () => {
    // The next Tuesday's window, looked at first an hour after it started.
    const next = start + 7 * 86_400_000;
    expect(await worker('c').tick(next + 3_600_000)).toEqual([]);
  });

  it('lays the weekly window out for the check’s monitor, and shows it on the status page and its Statuspage API', async () => {
    const windows = monitorConfigFor(config, config.checks[0]!, start - 86_400_000).windows;
    expect(windows.slice(0, 2)).toEqual([
      { from: '2027-03-30T00:00:00.000Z', until: '2027-03-30T02:00:00.000Z', reason: 'database patching' },
      { from: '2027-04-06T00:00:00.000Z', until: '2027-04-06T02:00:00.000Z', reason: 'database patching' },
    ]);
    expect(windows).toHaveLength(5); // 35 days ahead

    const board = await createStatusBoard({
      records: store.records,
      config,
      now: () => start + 60_000,
    }).get();
    expect(board.maintenance[0]).toMatchObject({
      id: 'db-patch/2027-03-30T00:00:00.000Z',
      inProgress: true,
      components: [{ service: 'fs-canvas', component: 'Canvas grade import' }],
    });
    expect(board.maintenance[1]).toMatchObject({ start: '2027-04-06T00:00:00.000Z', inProgress: false });
    const shapes = statuspageShapes(board, {
      id: 'status',
      name: 'Status',
      url: 'https://status.example/status',
    });
    expect(shapes.activeMaintenances.scheduled_maintenances).toEqual([
      expect.objectContaining({
        id: 'db-patch/2027-03-30T00:00:00.000Z',
        name: 'database patching',
        status: 'in_progress',
        impact: 'maintenance',
        scheduled_for: '2027-03-30T00:00:00.000Z',
        scheduled_until: '2027-03-30T02:00:00.000Z',
        components: [expect.objectContaining({ id: 'fs-canvas', name: 'Canvas grade import' })],
      }),
    ]);
    expect(shapes.upcomingMaintenances.scheduled_maintenances.map((m) => m.status)).toEqual(['scheduled']);
    expect(shapes.summary.scheduled_maintenances).toHaveLength(2);

    // What a visitor and a status aggregator see, through the routes.
    const app = Fastify();
    const reader = createStatusBoard({ records: store.records, config, now: () => start + 60_000 });
    await app.register(statusPageRoutes, { board: reader });
    await app.register(statuspageRoutes, { board: reader });
    const page = await app.inject({ method: 'GET', url: '/status?lang=nb' });
    expect(page.statusCode).toBe(200);
    const section = /<section aria-labelledby="maintenance">([\s\S]*?)<\/section>/.exec(page.body)?.[1] ?? '';
    expect(section).toContain('Planlagt vedlikehold');
    expect(section).toContain('Canvas grade import —');
    expect(section).toContain('Pågår');
    expect(section).toContain('database patching');
    const active = await app.inject({ method: 'GET', url: '/api/v2/scheduled-maintenances/active.json' });
    expect(active.json().scheduled_maintenances.map((m: { id: string }) => m.id)).toEqual([
      'db-patch/2027-03-30T00:00:00.000Z',
    ]);
    await app.close();
  });
});
