/**
 * L8: the public page, its feed, `/api/status` and the Statuspage-compatible reads show only public
 * component names and public text. With the example config, an incident on the data-sync host
 * (`datasync02`, named "w3prod-datasync02 (FS XML export)", no component of its own) is shown under
 * the component that depends on it, "Student system → Canvas integration"; the automatic messages
 * carry neither the host's name nor the detection's (probe) text; no staff id appears; what staff
 * wrote themselves is shown as written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../config/load.js';
import type { StatusBoard } from '../../api/status-board.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

const internal = [
  'w3prod',
  'FS XML export',
  'example.edu',
  'port 22 timed out',
  'datasync02-ssh',
  '"author"',
  'kari',
  'Kari',
];
const publicComponent = 'Student system → Canvas integration';
const staffText = 'A fix for the nightly export is in place; imports run again.';

describe('public surfaces show public names and text only', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: loadConfigFile('config/example.yaml', {}) });
  });
  afterAll(async () => h?.close());

  const post = (url: string, payload: object) =>
    h.app.inject({
      method: 'POST',
      url,
      payload,
      headers: { ...h.auth('kari'), 'content-type': 'application/json' },
    });

  it('an incident on the internal host datasync02, on the page, the feed, /api/status and /api/v2/*.json', async () => {
    const opened = await post('/api/incidents', {
      service: 'datasync02',
      reason: 'w3prod-datasync02.example.edu port 22 timed out (datasync02-ssh)',
      skipVerify: true,
    });
    expect(opened.statusCode).toBe(201);
    const id = (opened.json() as { incident: { id: string } }).incident.id;
    // P1 publishes "investigating" by itself; staff publish "identified" with the default text (which
    // quotes the detection's reason internally) and then a message of their own.
    await eventually(async () => (await h.incidents.get(id)).status.length >= 1, 30_000, 'auto message');
    expect((await post(`/api/incidents/${id}/status`, { state: 'identified' })).statusCode).toBe(200);
    expect(
      (await post(`/api/incidents/${id}/status`, { state: 'monitoring', message: staffText })).statusCode,
    ).toBe(200);
    // Internally the record has the host's name and the probe text (what the public must not see).
    const record = JSON.stringify((await h.incidents.get(id)).status);
    expect(record).toContain('w3prod-datasync02 (FS XML export)');

    const board = await eventually(
      async () => {
        const b = (await h.app.inject({ method: 'GET', url: '/api/status' })).json() as StatusBoard;
        return b.incidents.find((i) => i.id === id)?.messages.length === 3 ? b : undefined;
      },
      30_000,
      'three published messages on the board',
    );
    const shown = board.incidents.find((i) => i.id === id)!;
    expect(shown).toMatchObject({ service: 'fs-canvas', component: publicComponent, state: 'monitoring' });
    expect(shown.messages.map((m) => m.message)).toEqual([
      expect.stringContaining(`problem with the ${publicComponent}`),
      `We have identified the cause of the problem with the ${publicComponent}. We are working on a fix.`,
      staffText,
    ]);
    expect(board.components.find((c) => c.service === 'fs-canvas')).toMatchObject({
      status: 'major_outage',
      incidents: [id],
    });

    for (const url of [
      '/api/status',
      '/status',
      '/status?lang=nb',
      '/status/feed.atom',
      '/api/v2/summary.json',
      '/api/v2/status.json',
      '/api/v2/components.json',
      '/api/v2/incidents.json',
      '/api/v2/incidents/unresolved.json',
    ]) {
      const r = await h.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      for (const word of internal) expect(r.body, `${url}: ${word}`).not.toContain(word);
      if (url !== '/api/v2/status.json')
        expect(r.body, url).toMatch(/Student system (→|&#8594;|\\u2192) Canvas/);
    }
    const nb = await h.app.inject({ method: 'GET', url: '/status?lang=nb' });
    expect(nb.body).toContain(
      `Vi har funnet årsaken til problemet med ${publicComponent}. Vi jobber med å rette feilen.`,
    );
    expect(nb.body).toContain(staffText);
  });
});
