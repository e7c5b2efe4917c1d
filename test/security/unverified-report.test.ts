/**
 * L7: one anonymous report on a component with no probe pages nobody. It opens an unverified
 * incident that pages once staff confirm it (`POST /api/incidents/:id/confirm`) or a second,
 * independent report arrives (another client address); more reports from the same address do not
 * count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import type { IncidentView } from '../../domain/incident.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

describe('a probe-less public report', () => {
  let h: Harness;
  let serviceId = '';
  let wikiId = '';

  beforeAll(async () => {
    const base = testConfig();
    serviceId = base.serviceId;
    wikiId = `${serviceId}-wiki`;
    const raw = JSON.parse(JSON.stringify(base.config)) as { services: object[] };
    raw.services.push({
      id: wikiId,
      name: 'Wiki',
      owner: 'kari',
      policy: 'chain',
      severity: 'P2',
      component: 'Wiki',
    });
    // No checks anywhere: nothing can verify a report.
    h = await startHarness({ config: validateConfig(raw, 'unverified-report-test') });
  });
  afterAll(async () => h?.close());

  const report = (component: string, description: string, remoteAddress: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/reports',
      remoteAddress,
      payload: { component, description },
      headers: { 'content-type': 'application/json' },
    });
  const incident = (service: string) => h.incidents.get(service).catch(() => undefined);
  const until = (service: string, what: string, ok: (v: IncidentView) => boolean) =>
    eventually(
      async () => {
        const v = await incident(service);
        return v && ok(v) ? v : undefined;
      },
      30_000,
      what,
    );
  const lines = (v: IncidentView, kind: string) =>
    v.timeline.filter((e) => e.kind === kind).map((e) => e.detail);

  it('one report → unverified, no page; the same address again → still none; another address → paged', async () => {
    expect(
      (await report('Student system → Canvas integration', 'Canvas has no new students', '10.1.0.1'))
        .statusCode,
    ).toBe(202);
    const unverified = await until(serviceId, 'the unverified line', (v) =>
      lines(v, 'verify').some((d) => d.startsWith('unverified')),
    );
    expect(unverified.state).toBe('verifying');
    expect(unverified.paged).toEqual([]);

    // The same reporter again: joins, counts, pages nobody.
    expect((await report(serviceId, 'Still no new students in Canvas', '10.1.0.1')).statusCode).toBe(202);
    const joined = await until(serviceId, 'the second report joined', (v) => v.customerReports === 2);
    expect(joined.state).toBe('verifying');
    expect(joined.paged).toEqual([]);
    expect(lines(joined, 'verified')).toEqual([]);

    // Another address: an independent report; level 1 (Kari) is paged.
    expect((await report(serviceId, 'Our students are missing in Canvas', '10.1.0.2')).statusCode).toBe(202);
    const paged = await until(serviceId, 'a page', (v) => v.paged.length > 0);
    expect(lines(paged, 'verified')).toEqual(['confirmed by a second report from another address']);
    expect(paged.state).toBe('triggered');
    expect(paged.paged[0]).toMatchObject({ level: 1, recipient: { id: 'kari' } });
  });

  it('one report → unverified; a staff confirmation through the API → paged', async () => {
    expect((await report('Wiki', 'The wiki answers 502', '10.2.0.1')).statusCode).toBe(202);
    const unverified = await until(wikiId, 'the unverified line', (v) =>
      lines(v, 'verify').some((d) => d.startsWith('unverified')),
    );
    expect(unverified.paged).toEqual([]);

    const anonymous = await h.app.inject({ method: 'POST', url: `/api/incidents/${unverified.id}/confirm` });
    expect(anonymous.statusCode).toBe(401);
    const confirm = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${unverified.id}/confirm`,
      headers: h.auth('ola'),
    });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.json()).toMatchObject({ id: unverified.id });
    const paged = await until(wikiId, 'a page', (v) => v.paged.length > 0);
    expect(lines(paged, 'verified')).toEqual(['confirmed by ola (api)']);
    expect(paged.paged[0]).toMatchObject({ level: 1, recipient: { id: 'kari' } });

    // Confirming twice is harmless; a closed incident cannot be confirmed.
    const again = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${unverified.id}/confirm`,
      headers: h.auth('ola'),
    });
    expect(again.statusCode).toBe(200);
    expect((await h.incidents.get(wikiId)).paged.filter((p) => p.level === 1)).toHaveLength(1);
  });
});
