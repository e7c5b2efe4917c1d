/**
 * The Statuspage-compatible reads against the real stack: an incident with a published message shows
 * in /api/v2/*.json in Statuspage's documented shapes (validated against their JSON Schemas), and
 * the page turns operational again when it resolves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { statuspageErrors } from '../helpers/statuspage-schemas.js';

describe('Statuspage-compatible API', () => {
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    const t = testConfig({ levelTimeout: '10m', recoveryPasses: 1 });
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config });
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = async (url: string) => {
    const r = await h.app.inject({ method: 'GET', url });
    expect(r.statusCode, url).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked against the schemas
    return r.json() as Record<string, any>;
  };
  const all = async () => ({
    summary: await get('/api/v2/summary.json'),
    status: await get('/api/v2/status.json'),
    components: await get('/api/v2/components.json'),
    incidents: await get('/api/v2/incidents.json'),
    unresolved: await get('/api/v2/incidents/unresolved.json'),
  });
  const conforms = (s: Awaited<ReturnType<typeof all>>) => {
    expect(statuspageErrors('summary', s.summary)).toEqual([]);
    expect(statuspageErrors('status', s.status)).toEqual([]);
    expect(statuspageErrors('components', s.components)).toEqual([]);
    expect(statuspageErrors('incidents', s.incidents)).toEqual([]);
    expect(statuspageErrors('incidents', s.unresolved)).toEqual([]);
  };

  it('shows a published incident in the documented shapes, and all operational once it resolves', async () => {
    const quiet = await all();
    conforms(quiet);
    expect(quiet.status.status).toEqual({ indicator: 'none', description: 'All Systems Operational' });
    expect(quiet.components.components).toEqual([
      expect.objectContaining({
        id: serviceId,
        name: 'Student system → Canvas integration',
        status: 'operational',
      }),
    ]);

    const opened = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service: serviceId, reason: 'the export is stale', skipVerify: true },
    });
    const id = (opened.json() as { incident: { id: string } }).incident.id;
    const published = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/status`,
      headers: h.auth('kari'),
      payload: { state: 'identified', message: 'Grades are not reaching Canvas; we know why.' },
    });
    expect(published.statusCode).toBe(200);

    const during = await all();
    conforms(during);
    expect(during.status.status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    expect(during.components.components[0]).toMatchObject({ id: serviceId, status: 'major_outage' });
    const [incident] = during.unresolved.incidents as Array<Record<string, unknown>>;
    expect(incident).toMatchObject({
      id,
      status: 'identified',
      impact: 'major',
      resolved_at: null,
      incident_updates: [
        expect.objectContaining({
          status: 'identified',
          body: 'Grades are not reaching Canvas; we know why.',
        }),
        // Newest first: ours, then the automatic first message of a P1.
        expect.objectContaining({
          status: 'investigating',
          body: expect.stringMatching(/^We are investigating/),
        }),
      ],
    });
    expect(during.summary.incidents).toEqual(during.unresolved.incidents);

    await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/status`,
      headers: h.auth('kari'),
      payload: { state: 'resolved', message: 'Fixed.' },
    });
    await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/resolve`,
      headers: h.auth('kari'),
      payload: {},
    });
    const after = await eventually(
      async () => {
        const s = await all();
        // The resolved message ends the public incident at once; the component follows when the
        // incident itself has resolved (the resolve request is asynchronous).
        return (s.unresolved.incidents as unknown[]).length === 0 && s.status.status.indicator === 'none'
          ? s
          : undefined;
      },
      30_000,
      'the incident resolved on the Statuspage API, and its component operational again',
    );
    conforms(after);
    expect(after.status.status.indicator).toBe('none');
    expect(after.incidents.incidents[0]).toMatchObject({
      id,
      status: 'resolved',
      resolved_at: expect.any(String),
    });
  });
});
