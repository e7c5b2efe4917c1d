/**
 * The record outlives the workflow: an incident is closed, every workflow history it left is deleted
 * from Temporal (`temporal workflow delete`, what retention does a few days later), and the API, the
 * public status page and the console still show the incident, its whole timeline, its status
 * messages and its postmortem — read from the record store (a real PostgreSQL server).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { WorkflowNotFoundError } from '@temporalio/client';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import type { IncidentView } from '../../domain/incident.js';
import { incidentWorkflowId } from '../../workflows/definitions.js';
import { postmortemWorkflowId } from '../../workflows/postmortem-definitions.js';

describe('the record outlives the workflow histories', () => {
  let h: Harness;
  let serviceId: string;

  beforeAll(async () => {
    const t = testConfig({ levelTimeout: '30s' });
    serviceId = t.serviceId;
    h = await startHarness({ config: t.config });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('closes an incident, deletes its histories, and still serves it whole', async () => {
    const declared = await h.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: h.auth('kari'),
      payload: { service: serviceId, reason: 'institutions cannot fetch the XML export', skipVerify: true },
    });
    expect(declared.statusCode).toBe(201);
    const id = (declared.json() as { incident: IncidentView }).incident.id;

    // Staff work: acknowledge, a note, a public message, resolve (no probe: on the responder's word).
    const ack = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/acknowledge`,
      headers: h.auth('kari'),
    });
    expect(ack.statusCode).toBe(200);
    // Updates answer small: the id, the state and the sequence of what they recorded, never the view.
    expect(ack.json()).toEqual({ id, state: 'acknowledged', seq: expect.any(Number) });
    const note = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/notes`,
      headers: h.auth('kari'),
      payload: { text: 'inbound SSH was blocked by the firewall change at 08:00' },
    });
    expect(note.statusCode).toBe(200);
    const published = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/status`,
      headers: h.auth('kari'),
      payload: { state: 'identified', message: 'The Canvas integration is down; the cause is found.' },
    });
    expect(published.statusCode).toBe(200);
    const resolve = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/resolve`,
      headers: h.auth('kari'),
    });
    expect(resolve.statusCode).toBe(200);

    // The postmortem is drafted from the record, then completed.
    const pm = await eventually(async () => {
      const r = await h.app.inject({
        method: 'GET',
        url: `/api/incidents/${id}/postmortem`,
        headers: { ...h.auth('kari'), accept: 'application/json' },
      });
      return r.statusCode === 200 ? r : undefined;
    }, 30_000);
    expect(pm.json()).toMatchObject({ incidentId: id, state: 'due' });
    const complete = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/postmortem/complete`,
      headers: h.auth('kari'),
      payload: { url: 'https://wiki.example/postmortems/canvas' },
    });
    expect(complete.statusCode).toBe(200);
    await eventually(async () => (await h.store.records.getPostmortem(id))?.state === 'completed', 20_000);

    // Every workflow of this incident finishes, then its history is deleted (each run, by run id).
    const workflowIds = [incidentWorkflowId(serviceId), postmortemWorkflowId(id), `resolved-notice-${id}`];
    const runs: { wid: string; runId: string }[] = [];
    for (const wid of workflowIds) {
      const d = await eventually(
        async () => {
          try {
            const x = await h.client.workflow.getHandle(wid).describe();
            return x.status.name !== 'RUNNING' ? x : undefined;
          } catch (e) {
            return e instanceof WorkflowNotFoundError ? { runId: '' } : undefined;
          }
        },
        30_000,
        `${wid} finished`,
      );
      if (d.runId) runs.push({ wid, runId: d.runId });
    }
    expect(runs.map((r) => r.wid)).toEqual(expect.arrayContaining(workflowIds.slice(0, 2)));
    const cli = (...args: string[]) =>
      execFileSync(
        inject('temporalCli'),
        [...args, '--address', inject('temporalAddress'), '--namespace', 'default'],
        { stdio: 'pipe' },
      ).toString();
    for (const { wid, runId } of runs) cli('workflow', 'delete', '--workflow-id', wid, '--run-id', runId);
    for (const { wid, runId } of runs)
      await eventually(
        async () => {
          try {
            await h.client.workflow.getHandle(wid, runId).describe();
            return false;
          } catch (e) {
            return e instanceof WorkflowNotFoundError;
          }
        },
        // Temporal deletes a closed execution asynchronously (about half a minute on the dev server).
        120_000,
        `${wid} deleted`,
      );

    // The API: the incident, its whole timeline, its status messages and pages.
    const got = await h.app.inject({ method: 'GET', url: `/api/incidents/${id}`, headers: h.auth('kari') });
    expect(got.statusCode).toBe(200);
    const view = got.json() as IncidentView;
    expect(view.state).toBe('resolved');
    const kinds = view.timeline.map((e) => e.kind);
    for (const k of [
      'detected',
      'verified',
      'acknowledged',
      'note',
      'status',
      'resolve-requested',
      'resolved',
      'postmortem',
    ])
      expect(kinds).toContain(k);
    // Exactly once each: the store's key is the incident and the event's sequence.
    expect(kinds.filter((k) => k === 'note')).toHaveLength(1);
    expect(view.timeline.find((e) => e.kind === 'note')?.detail).toBe(
      'inbound SSH was blocked by the firewall change at 08:00',
    );
    // No probe is configured: nothing proved a fix, so no "monitoring" went out (#13 item 3).
    expect(view.status.map((m) => m.state)).toEqual(['investigating', 'identified', 'resolved']);
    expect(view.paged.map((p) => p.recipient.id)).toContain('kari');

    const list = await h.app.inject({
      method: 'GET',
      url: `/api/incidents?service=${serviceId}`,
      headers: h.auth('kari'),
    });
    expect((list.json() as { incidents: { id: string; state: string }[] }).incidents).toEqual([
      expect.objectContaining({ id, state: 'resolved' }),
    ]);
    const search = await h.app.inject({
      method: 'GET',
      url: `/api/incidents?q=firewall`,
      headers: h.auth('kari'),
    });
    expect((search.json() as { incidents: { id: string }[] }).incidents.map((i) => i.id)).toContain(id);

    // The public page and its JSON: the status messages in the last 90 days.
    const status = await h.app.inject({ method: 'GET', url: '/status' });
    expect(status.statusCode).toBe(200);
    expect(status.body).toContain('The Canvas integration is down; the cause is found.');
    const statusJson = (await h.app.inject({ method: 'GET', url: '/api/status' })).json() as {
      history: { id: string; messages: unknown[] }[];
    };
    expect(statusJson.history.find((i) => i.id === id)?.messages).toHaveLength(3);

    // The postmortem, from the API and the console.
    const after = await h.app.inject({
      method: 'GET',
      url: `/api/incidents/${id}/postmortem`,
      headers: { ...h.auth('kari'), accept: 'application/json' },
    });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({
      state: 'completed',
      url: 'https://wiki.example/postmortems/canvas',
    });
    expect((after.json() as { markdown: string }).markdown).toContain(
      'institutions cannot fetch the XML export',
    );
    const consolePage = await h.app.inject({
      method: 'GET',
      url: `/console/incidents/${id}`,
      headers: h.auth('kari'),
    });
    expect(consolePage.statusCode).toBe(200);
    expect(consolePage.body).toContain('inbound SSH was blocked by the firewall change at 08:00');
    const consolePm = await h.app.inject({
      method: 'GET',
      url: `/console/incidents/${id}/postmortem`,
      headers: h.auth('kari'),
    });
    expect(consolePm.statusCode).toBe(200);
    expect(consolePm.body).toContain('id="pm-state">completed<');

    // The figures for the period, from the record: the API and the console's reports page.
    const summary = await h.app.inject({
      method: 'GET',
      url: `/api/reports/summary?service=${serviceId}`,
      headers: h.auth('kari'),
    });
    expect(summary.statusCode).toBe(200);
    const fig = summary.json() as {
      incidents: number;
      mttaSeconds: number;
      mttrSeconds: number;
      meanTimeToFirstMessageSeconds: number;
      pagesPerPerson: { recipient: string; pages: number }[];
    };
    expect(fig.incidents).toBe(1);
    expect(fig.mttaSeconds).toBeGreaterThanOrEqual(0);
    expect(fig.mttrSeconds).toBeGreaterThanOrEqual(fig.mttaSeconds);
    expect(fig.meanTimeToFirstMessageSeconds).toBeGreaterThanOrEqual(0);
    expect(fig.pagesPerPerson).toEqual([{ recipient: 'kari', name: 'Kari Nordmann', pages: 1 }]);
    const reportsPage = await h.app.inject({
      method: 'GET',
      url: `/console/reports?service=${serviceId}`,
      headers: h.auth('kari'),
    });
    expect(reportsPage.statusCode).toBe(200);
    expect(reportsPage.body).toContain('<dd id="incidents">1</dd>');
    expect(reportsPage.body).toContain('<td data-label="Person">Kari Nordmann</td>');
    // The same page in Norwegian (as the status page and the other console pages).
    const norsk = await h.app.inject({
      method: 'GET',
      url: `/console/reports?service=${serviceId}&lang=nb`,
      headers: h.auth('kari'),
    });
    expect(norsk.body).toContain('<html lang="nb">');
    expect(norsk.body).toContain('<dt>Gjennomsnittlig tid til kvittering</dt>');
    expect(norsk.body).toContain('<h2>Varsler per person</h2>');
    expect(norsk.body).toContain('<dd id="incidents">1</dd>');
    const badPeriod = await h.app.inject({
      method: 'GET',
      url: '/api/reports/summary?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z',
      headers: h.auth('kari'),
    });
    expect(badPeriod.statusCode).toBe(400);
    expect((badPeriod.json() as { message: string }).message).toMatch(/^from: must be before to/);

    // Acting on it now is a clear 409, not a 500 or a new incident.
    const late = await h.app.inject({
      method: 'POST',
      url: `/api/incidents/${id}/acknowledge`,
      headers: h.auth('kari'),
    });
    expect(late.statusCode).toBe(409);
    expect((late.json() as { message: string }).message).toMatch(/already resolved/);
  }, 300_000);
});
