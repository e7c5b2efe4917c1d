/**
 * The postmortem and change API against a real Temporal dev server: auth, validation naming the
 * field, not found, completing twice, follow-ups, the list of what is due, and change events.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { people } from '../helpers/incident-fixture.js';
import { shiftedIncident, startPostmortem, todayIn } from '../helpers/postmortem-fixture.js';
import type { IncidentView } from '../../domain/incident.js';
import type { PostmortemSummary } from '../../api/postmortem-service.js';

describe('postmortems API', () => {
  let h: Harness;
  let serviceId: string;
  /** Open, due in five days. */
  let open: IncidentView;
  /** Open and long overdue. */
  let overdue: IncidentView;

  beforeAll(async () => {
    const t = testConfig();
    serviceId = t.serviceId;
    // No SMTP server: mail goes to the harness's outbox folder.
    h = await startHarness({ config: t.config });
    open = shiftedIncident({ serviceId, resolvedAt: new Date().toISOString() });
    overdue = shiftedIncident({ serviceId, resolvedAt: '2026-05-22T12:40:00.000Z' });
    for (const view of [open, overdue]) await startPostmortem(h, { view, owner: people.owner, dueDays: 5 });
  });

  afterAll(async () => {
    await h?.close();
  });

  const post = (url: string, payload?: object, who: string | null = 'kari') =>
    h.app.inject({ method: 'POST', url, payload, headers: who ? h.auth(who) : {} });
  const get = (url: string, headers: Record<string, string> = {}, who: string | null = 'kari') =>
    h.app.inject({ method: 'GET', url, headers: { ...(who ? h.auth(who) : {}), ...headers } });

  it('needs a staff token on every route', async () => {
    for (const r of [
      await get(`/api/incidents/${open.id}/postmortem`, {}, null),
      await post(`/api/incidents/${open.id}/postmortem/complete`, { url: 'https://x.example/pm' }, null),
      await post(
        `/api/incidents/${open.id}/follow-ups`,
        { title: 't', owner: 'ola', dueDate: '2099-01-01' },
        null,
      ),
      await get('/api/postmortems?state=due', {}, null),
      await post('/api/changes', { what: 'x', hosts: ['h'], at: '2026-05-22T06:00:00Z' }, null),
    ]) {
      expect(r.statusCode).toBe(401);
      expect(r.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
    }
  });

  it('serves the draft as Markdown, and says 404 for an incident without one', async () => {
    const md = await eventually(async () => {
      const r = await get(`/api/incidents/${open.id}/postmortem`);
      return r.statusCode === 200 ? r : undefined;
    });
    expect(md.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(md.body).toMatch(/^# Postmortem: FS → Canvas integration/);
    const missing = await get(`/api/incidents/${serviceId}.${randomUUID()}/postmortem`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found' });
    expect((await get('/api/incidents/NOT AN ID/postmortem')).statusCode).toBe(404);
    // A bare service id means its latest incident; this service never had one.
    expect((await get(`/api/incidents/${serviceId}/postmortem`)).statusCode).toBe(404);
  });

  it('lists what is due, overdue ones flagged', async () => {
    const list = await eventually(async () => {
      const r = await get('/api/postmortems?state=due');
      expect(r.statusCode).toBe(200);
      const items = (r.json() as { postmortems: PostmortemSummary[] }).postmortems;
      return items.length >= 2 ? items : undefined;
    });
    const byId = new Map(list.map((p) => [p.incidentId, p]));
    expect(byId.get(open.id)).toMatchObject({
      state: 'due',
      overdue: false,
      owner: { id: 'kari' },
      service: serviceId,
    });
    expect(byId.get(overdue.id)).toMatchObject({ state: 'due', overdue: true, dueDate: '2026-05-27' });
    const overdueOnly = (await get('/api/postmortems?state=overdue')).json() as {
      postmortems: PostmortemSummary[];
    };
    expect(overdueOnly.postmortems.map((p) => p.incidentId)).toEqual([overdue.id]);
    expect((await get('/api/postmortems?state=late')).statusCode).toBe(400);
  });

  it('rejects a bad follow-up with 400 naming the field', async () => {
    const url = `/api/incidents/${open.id}/follow-ups`;
    const cases: [object, RegExp][] = [
      [{ title: 'Alerting on the import', dueDate: '2099-01-01' }, /owner/],
      [
        { title: 'Alerting on the import', owner: 'ola', dueDate: '2020-01-01' },
        /^dueDate: 2020-01-01 is in the past/,
      ],
      [
        { title: 'Alerting on the import', owner: 'ola', dueDate: todayIn('Europe/Oslo', -1) },
        /^dueDate: .* in the past/,
      ],
      [{ title: 'Alerting on the import', owner: 'ola', dueDate: '2099-02-30' }, /dueDate/],
      [
        { title: 'Alerting on the import', owner: 'nobody', dueDate: '2099-01-01' },
        /^owner: unknown contact "nobody"/,
      ],
      [{ owner: 'ola', dueDate: '2099-01-01' }, /title/],
      [{ title: '', owner: 'ola', dueDate: '2099-01-01' }, /title/],
    ];
    for (const [body, message] of cases) {
      const r = await post(url, body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().message, JSON.stringify(body)).toMatch(message);
    }
    const missingOwner = (await post(url, { title: 'x', dueDate: '2099-01-01' })).json();
    expect(missingOwner.field).toBe('owner');
  });

  it('records a follow-up for today or later', async () => {
    const r = await post(`/api/incidents/${open.id}/follow-ups`, {
      title: 'Change-notification process with the operators',
      owner: 'ola',
      dueDate: todayIn('Europe/Oslo', 30),
    });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({
      id: 'f1',
      owner: { id: 'ola', email: 'ola@test.local' },
      recordedBy: 'kari',
    });
    const view = await get(`/api/incidents/${open.id}/postmortem`, { accept: 'application/json' });
    expect(view.json().followUps).toHaveLength(1);
  });

  it('completes once: the second time is 409, a bad link is 400', async () => {
    const url = `/api/incidents/${open.id}/postmortem/complete`;
    const bad = await post(url, { url: 'not a link' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^body\.url/);
    const first = await post(url, { url: 'https://wiki.example/pm/7' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      state: 'completed',
      url: 'https://wiki.example/pm/7',
      completedBy: 'kari',
    });
    const second = await post(url, { url: 'https://wiki.example/pm/8' }, 'ola');
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ error: 'postmortem_completed' });
    expect(second.json().message).toMatch(/already completed .* by kari/);

    const completed = (await get('/api/postmortems?state=completed')).json() as {
      postmortems: PostmortemSummary[];
    };
    await eventually(async () => {
      const r = (await get('/api/postmortems?state=completed')).json() as {
        postmortems: PostmortemSummary[];
      };
      return r.postmortems.some((p) => p.incidentId === open.id && p.url === 'https://wiki.example/pm/7');
    });
    expect(completed.postmortems.every((p) => p.state === 'completed')).toBe(true);
    const due = (await get('/api/postmortems?state=due')).json() as { postmortems: PostmortemSummary[] };
    expect(due.postmortems.map((p) => p.incidentId)).not.toContain(open.id);
  });

  it('once done and closed, completing again and new follow-ups are 409', async () => {
    await post(`/api/incidents/${overdue.id}/postmortem/complete`, { url: 'https://wiki.example/pm/9' });
    await eventually(async () => {
      const d = await h.client.workflow.getHandle(`postmortem-${overdue.id}`).describe();
      return d.status.name === 'COMPLETED';
    });
    const again = await post(`/api/incidents/${overdue.id}/postmortem/complete`, {
      url: 'https://wiki.example/pm/9',
    });
    expect(again.statusCode).toBe(409);
    const late = await post(`/api/incidents/${overdue.id}/follow-ups`, {
      title: 'x',
      owner: 'ola',
      dueDate: '2099-01-01',
    });
    expect(late.statusCode).toBe(409);
    // The record stays readable.
    expect((await get(`/api/incidents/${overdue.id}/postmortem`)).statusCode).toBe(200);
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
      >;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/incidents/{id}/postmortem',
        '/api/incidents/{id}/postmortem/complete',
        '/api/incidents/{id}/follow-ups',
        '/api/postmortems',
        '/api/changes',
      ]),
    );
    expect(Object.keys(doc.paths['/api/incidents/{id}/postmortem']!.get!.responses['200']!.content!)).toEqual(
      ['text/markdown', 'application/json'],
    );
  });

  describe('changes', () => {
    it('rejects a change without a target, time or description with 400 naming the field', async () => {
      const cases: [object, RegExp][] = [
        [{ what: 'firewall rule', at: '2026-05-22T06:00:00Z' }, /^hosts: name at least one host or service/],
        [{ what: 'firewall rule', hosts: ['h'], at: 'yesterday' }, /^body\.at/],
        [{ what: 'firewall rule', hosts: ['h'] }, /at/],
        [{ hosts: ['h'], at: '2026-05-22T06:00:00Z' }, /what/],
        [{ what: 'x', hosts: [''], at: '2026-05-22T06:00:00Z' }, /hosts/],
      ];
      for (const [body, message] of cases) {
        const r = await post('/api/changes', body);
        expect(r.statusCode, JSON.stringify(body)).toBe(400);
        expect(r.json().message, JSON.stringify(body)).toMatch(message);
      }
    });

    it('records a change once per id, and lists by target and time', async () => {
      const body = {
        id: `CHG-${randomUUID().slice(0, 8)}`,
        what: 'firewall: block inbound SSH',
        hosts: ['w3prod-datasync02.example.edu'],
        at: '2026-05-22T08:15:00+02:00',
      };
      const first = await post('/api/changes', body);
      expect(first.statusCode, first.body).toBe(201);
      expect(first.json()).toMatchObject({
        id: body.id,
        who: 'kari',
        recordedBy: 'kari',
        at: '2026-05-22T06:15:00.000Z',
      });
      const again = await post('/api/changes', { ...body, what: 'edited' }, 'ola');
      expect(again.json()).toEqual(first.json());
      await post('/api/changes', {
        who: 'webops',
        what: 'deploy',
        services: ['portal'],
        at: '2026-05-22T07:00:00Z',
      });

      const r = await get('/api/changes?target=w3prod-datasync02&from=2026-05-22T00:00:00Z');
      expect(r.statusCode).toBe(200);
      expect(r.json().changes.map((c: { id: string }) => c.id)).toEqual([body.id]);
      const all = await get('/api/changes');
      expect(all.json().changes.map((c: { what: string }) => c.what)).toEqual([
        'firewall: block inbound SSH',
        'deploy',
      ]);
    });
  });
});
