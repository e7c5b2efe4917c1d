/**
 * Merging two incidents by hand through the API, against a real Temporal dev server and SMTP: the
 * integration's P1 incident is merged into the web portal's P3 one. The portal's incident records
 * it with its actor, lists the integration as affected, is raised to P1, and its resolution tells
 * the people paged for both; the merged incident closes as merged, with no resolved notice and no
 * postmortem of its own. Wrong asks get 400/403/404/409 and change nothing.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { validateConfig } from '../../config/load.js';
import type { IncidentView } from '../../domain/incident.js';

describe('merge API', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let h: Harness;
  let serviceId: string;
  const webId = () => `${serviceId}-web`;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const t = testConfig({ levelTimeout: '10m' });
    serviceId = t.serviceId;
    const raw = JSON.parse(JSON.stringify(t.config)) as {
      contacts: { id: string; roles?: string[] }[];
      policies: { id: string; levels: unknown[]; acknowledgementTimeout: string }[];
      services: Record<string, unknown>[];
    };
    const roles: Record<string, string[]> = { kari: ['admin'], ola: ['responder'], ingrid: [], per: [] };
    for (const c of raw.contacts) c.roles = roles[c.id];
    raw.policies.push({
      id: 'web',
      levels: [{ notify: ['ingrid'], ackTimeout: '10m' }],
      acknowledgementTimeout: '10m',
    });
    raw.services.push({
      id: `${serviceId}-web`,
      name: 'web portal',
      owner: 'ola',
      policy: 'web',
      severity: 'P3',
      component: 'Web portal',
    });
    h = await startHarness({ config: validateConfig(raw, 'merge'), smtpUrl: smtp.url });
  });

  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const post = (url: string, payload: object, who: string) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth(who) });
  const view = async (id: string) =>
    (await h.app.inject({ url: `/api/incidents/${id}`, headers: h.auth('per') })).json() as IncidentView;
  const declare = async (service: string, reason: string) => {
    const r = await post('/api/incidents', { service, reason, skipVerify: true }, 'kari');
    expect(r.statusCode, r.body).toBe(201);
    return (r.json() as { incident: IncidentView }).incident.id;
  };

  it('merges one incident into another: recorded on both, severity raised, one resolution for everyone, no second postmortem', async () => {
    const integration = await declare(serviceId, 'exports are late');
    await smtp.waitFor((m) => m.to.includes('kari@test.local'), 30_000);
    const web = await declare(webId(), 'the portal shows stale grades');
    await smtp.waitFor((m) => m.to.includes('ingrid@test.local'), 30_000);
    expect((await view(web)).severity).toBe('P3');
    const url = `/api/incidents/${integration}/merge`;

    // Wrong asks first: none of them changes anything.
    const self = await post(url, { into: integration }, 'ola');
    expect(self.statusCode).toBe(400);
    expect(self.json()).toMatchObject({
      message: 'into: an incident cannot be merged into itself',
      field: 'into',
    });
    const unknown = await post(url, { into: `${webId()}.00000000-0000-4000-8000-000000000000` }, 'ola');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/^into: no incident/);
    const forbidden = await post(url, { into: web }, 'per');
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().message).toMatch(/^Merging incidents needs the responder role/);
    const badBody = await post(url, { into: web, extra: 1 }, 'ola');
    expect(badBody.statusCode).toBe(400);
    expect((await view(integration)).state).toBe('triggered');
    expect((await view(web)).timeline.some((e) => e.kind === 'merged')).toBe(false);

    const merged = await post(url, { into: web, reason: 'the portal reads the same export' }, 'ola');
    expect(merged.statusCode, merged.body).toBe(200);
    expect(merged.json()).toEqual({ merged: integration, into: web, state: 'resolved' });

    const source = await view(integration);
    expect(source).toMatchObject({ state: 'resolved', mergedInto: web });
    expect(source.timeline.filter((e) => e.kind === 'merged')).toEqual([
      expect.objectContaining({
        actor: 'ola',
        detail: `ola merged this incident into ${web}: the portal reads the same export; it has no postmortem of its own`,
      }),
    ]);
    const target = await view(web);
    expect(target.state).toBe('triggered');
    expect(target.severity).toBe('P1');
    expect(target.merged).toEqual([expect.objectContaining({ id: integration, serviceId, by: 'ola' })]);
    expect(target.affected.map((a) => a.id)).toEqual(expect.arrayContaining([webId(), serviceId]));
    const lines = target.timeline.map((e) => `${e.kind}: ${e.detail}`);
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^merged: ola merged ${integration.replace('.', '\\.')} \\(FS → Canvas integration, opened .*: exports are late\\) into this incident: the portal reads the same export$`,
        ),
      ),
    );
    // P1's rule publishes at once: the portal's status message goes out with the raise.
    expect(lines).toContain(
      'severity: system raised the severity from P3 to P1; the status message is published automatically: ' +
        `the merged incident ${integration} is P1`,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^status: status message published \(investigating\)/),
    );

    // Merging again, or into a closed incident, is 409.
    const again = await post(url, { into: web }, 'ola');
    expect(again.statusCode).toBe(409);
    const intoClosed = await post(`/api/incidents/${web}/merge`, { into: integration }, 'ola');
    expect(intoClosed.statusCode).toBe(409);
    expect(intoClosed.json().message).toMatch(/^into: incident .* is already resolved/);

    // One resolution: Kari (paged for the merged one) and Ingrid (paged for the portal) each get one
    // resolved notice, and only the portal's incident gets a postmortem.
    const done = await post(
      `/api/incidents/${web}/force-resolve`,
      { reason: 'export job restarted' },
      'kari',
    );
    expect(done.statusCode, done.body).toBe(200);
    for (const who of ['kari@test.local', 'ingrid@test.local'])
      await smtp.waitFor((m) => m.to.includes(who) && /RESOLVED/.test(m.subject), 30_000);
    await eventually(
      async () => (await view(web)).timeline.some((e) => e.kind === 'postmortem'),
      15_000,
      "the portal's postmortem line",
    );
    const resolvedMails = smtp.messages.filter((m) => /RESOLVED/.test(m.subject));
    expect(resolvedMails.filter((m) => m.to.includes('kari@test.local'))).toHaveLength(1);
    expect((await view(integration)).timeline.some((e) => e.kind === 'postmortem')).toBe(false);
    const postmortems = async () =>
      (await h.app.inject({ url: '/api/postmortems', headers: h.auth('kari') })).body;
    await eventually(async () => (await postmortems()).includes(web), 30_000, "the portal's postmortem");
    expect(await postmortems()).not.toContain(integration);

    // Both runs, the merged one and the one that took it in, replay against the workflow code.
    for (const v of [source, target]) {
      const run = v.id.slice(v.id.indexOf('.') + 1);
      const history = await h.client.workflow.getHandle(v.workflowId, run).fetchHistory();
      await expect(
        Worker.runReplayHistory(
          { workflowBundle: { codePath: inject('workflowBundlePath') } },
          history,
          v.id,
        ),
      ).resolves.toBeUndefined();
    }
  });
});
