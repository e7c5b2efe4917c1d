/**
 * The status page's "report a problem" form against a real Temporal dev server and a real (stopped)
 * SSH server: a report opens an incident at once and its verification runs the component's probe;
 * a filled honeypot records nothing; bad fields come back as the form with what was typed, escaped,
 * and the field named; the rate limit is one count per client address, shared with `POST /api/reports`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import type { Config } from '../../domain/config-schema.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startSshServer, type TestSshServer } from '../helpers/ssh-server.js';

function reportConfig(sshPort: number) {
  const p = `r-${randomUUID().slice(0, 8)}`;
  const raw = {
    contacts: [{ id: 'kari', name: 'Kari Nordmann', email: 'kari@test.local' }],
    policies: [
      { id: 'chain', levels: [{ notify: ['kari'], ackTimeout: '10m' }], acknowledgementTimeout: '10m' },
    ],
    services: [
      {
        id: `${p}-probed`,
        name: 'FS → Canvas integration',
        owner: 'kari',
        policy: 'chain',
        severity: 'P1',
        component: `Student system → Canvas ${p}`,
      },
      {
        id: `${p}-quiet`,
        name: 'Quiet service',
        owner: 'kari',
        policy: 'chain',
        severity: 'P2',
        component: `Quiet component ${p}`,
      },
      { id: `${p}-internal`, name: 'Internal host', owner: 'kari', policy: 'chain', severity: 'P2' },
    ],
    checks: [
      {
        id: `${p}-ssh`,
        service: `${p}-probed`,
        kind: 'ssh',
        host: '127.0.0.1',
        port: sshPort,
        timeout: '1s',
        interval: '5s',
      },
    ],
    incidents: { verifyAttempts: 1, verifyInterval: '1s', recoveryPasses: 1, recoveryInterval: '1s' },
  };
  return { p, config: validateConfig(raw, 'test') as Config };
}

const form = (fields: Record<string, string>) => ({
  'content-type': 'application/x-www-form-urlencoded',
  body: new URLSearchParams(fields).toString(),
});

describe('report a problem on the status page', () => {
  let ssh: TestSshServer;
  let h: Harness;
  let p: string;
  const extra: Harness[] = [];

  beforeAll(async () => {
    ssh = await startSshServer();
    await ssh.stop(); // connections refused: the probe fails
    const c = reportConfig(ssh.port);
    p = c.p;
    h = await startHarness({ config: c.config });
  });
  afterAll(async () => {
    for (const x of extra) await x.close();
    await h?.close();
    await ssh?.close();
  });

  const post = (url: string, fields: Record<string, string>, remoteAddress?: string, harness = h) => {
    const { body, ...headers } = form(fields);
    return harness.app.inject({ method: 'POST', url, headers, payload: body, remoteAddress });
  };

  it('shows the form on /status in both languages: public components only, and a hidden honeypot', async () => {
    const en = await h.app.inject({ method: 'GET', url: '/status' });
    expect(en.statusCode).toBe(200);
    expect(en.body).toContain('<h2 id="report-heading">Report a problem</h2>');
    expect(en.body).toContain('action="/status/report?lang=en"');
    expect(en.body).toMatch(
      new RegExp(`<option\\s+value="${p}-probed"\\s*>\\s*Student system → Canvas ${p}`),
    );
    expect(en.body).toContain(`value="${p}-quiet"`);
    expect(en.body).not.toContain(`value="${p}-internal"`);
    expect(en.body).toMatch(/<textarea[^>]*name="description"[^>]*required[^>]*maxlength="2000"/);
    const honeypot = /<div class="hp" aria-hidden="true">[\s\S]*?<\/div>/.exec(en.body)?.[0];
    expect(honeypot).toMatch(/<input[^>]*name="website"/);
    expect(honeypot).toContain('autocomplete="off"');
    expect(honeypot).toContain('tabindex="-1"');
    expect(honeypot).toMatch(/<input[^>]*aria-hidden="true"/);
    const css = await h.app.inject({ method: 'GET', url: '/assets/site.css' });
    expect(css.body).toMatch(/\.hp \{ position: absolute; left: -10000px;/);
    expect(en.body).not.toContain('id="report-received"');

    const nb = await h.app.inject({ method: 'GET', url: '/status?lang=nb' });
    expect(nb.body).toContain('<h2 id="report-heading">Meld fra om et problem</h2>');
    expect(nb.body).toContain('action="/status/report?lang=nb"');
    expect(nb.body).toContain('Send melding');
  });

  it('a form report opens an incident at once, from a customer, and its verification runs the probe', async () => {
    const sentAt = Date.now();
    const r = await post('/status/report?lang=nb', {
      component: `${p}-probed`,
      description: 'Vi får ikke hentet XML-eksporten <b>over SSH</b>',
      contact: 'it@hiof.example',
      website: '',
    });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/status?lang=nb&reported=1');

    // Declared before the answer: the incident is there at once.
    const first = await h.incidents.get(`${p}-probed`);
    expect(first.source).toBe('customer');
    expect(first.customerReports).toBe(1);
    expect(Date.parse(first.firstCustomerReportAt!)).toBeGreaterThanOrEqual(sentAt - 1000);
    expect(Date.parse(first.firstCustomerReportAt!)).toBeLessThanOrEqual(Date.now());
    expect(first.timeline[0]).toMatchObject({ kind: 'detected', actor: 'customer' });
    expect(first.timeline[0]!.detail).toContain('Vi får ikke hentet XML-eksporten <b>over SSH</b>');
    // The contact reaches staff (the timeline), never the public page.
    expect(first.timeline[0]!.detail).toContain('(contact: it@hiof.example)');

    const verified = await eventually(
      async () => {
        const v = await h.incidents.get(`${p}-probed`);
        return v.timeline.find((e) => e.kind === 'verified');
      },
      15_000,
      'the verification of the customer report',
    );
    expect(verified.detail).toMatch(/refused/);
    expect((await h.incidents.get(`${p}-probed`)).state).toBe('triggered');

    const page = await h.app.inject({ method: 'GET', url: r.headers.location! });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<html lang="nb">');
    expect(page.body).toMatch(
      /id="report-received" role="status">\s*Takk for meldingen\. Vi sjekker tjenesten nå/,
    );
    const en = await h.app.inject({ method: 'GET', url: '/status?lang=en&reported=1' });
    expect(en.body).toContain('Thank you for your report. We are checking the service right now');
  });

  it('a filled honeypot gets the same answer and records nothing', async () => {
    const r = await post('/status/report?lang=nb', {
      component: `${p}-quiet`,
      description: 'Cheap watches',
      website: 'http://spam.example',
    });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/status?lang=nb&reported=1');
    await expect(h.incidents.get(`${p}-quiet`)).rejects.toThrow();
  });

  it('a missing description: 400, the field named, the component still chosen and the contact kept', async () => {
    const r = await post('/status/report', {
      component: `${p}-quiet`,
      description: '  \r\n ',
      contact: '"><script>alert(1)</script>',
      website: '',
    });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toContain('<html lang="en">');
    expect(r.body).toContain('Description: this field is required.');
    expect(r.body).toMatch(new RegExp(`<option\\s+value="${p}-quiet"\\s+selected\\s*>`));
    expect(r.body).not.toMatch(new RegExp(`value="${p}-probed"\\s+selected`));
    expect(r.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(r.body).not.toContain('<script>');
    expect(r.body).toMatch(
      /<textarea[^>]*aria-describedby="report-description-hint report-error"[^>]*aria-invalid="true"/,
    );
    expect(r.body).toContain('action="/status/report?lang=en"');
    await expect(h.incidents.get(`${p}-quiet`)).rejects.toThrow();
  });

  it('a description too long comes back whole and escaped, in the page language', async () => {
    const hostile = `</textarea><script>window.__pwned = 1</script>\n${'x'.repeat(2000)}`;
    const r = await post('/status/report?lang=nb', {
      component: `Quiet component ${p}`,
      description: hostile,
    });
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('<html lang="nb">');
    expect(r.body).toContain('Beskrivelse: høyst 2000 tegn');
    // The component was named, not picked by id: still chosen.
    expect(r.body).toMatch(new RegExp(`<option\\s+value="${p}-quiet"\\s+selected\\s*>`));
    const textarea = /<textarea[^>]*>([\s\S]*?)<\/textarea>/.exec(r.body)?.[1];
    expect(textarea).toBe(
      `\n&lt;/textarea&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;\n${'x'.repeat(2000)}`,
    );
    expect(r.body).not.toContain('<script>');
  });

  it('an unknown component: 400 naming the field', async () => {
    const r = await post('/status/report', { component: 'no-such-component', description: 'It is down' });
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('Service: choose one of the services in the list.');
    expect(r.body).toMatch(/<select[^>]*aria-invalid="true"/);
    expect(r.body).toContain('It is down</textarea>');
    const missing = await post('/status/report?lang=nb', { description: 'Det er nede' });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('Tjeneste: dette feltet må fylles ut.');
  });

  it('limits reports per client address, one count for the form and the JSON endpoint: 429 page, text kept', async () => {
    const c = reportConfig(ssh.port);
    // No worker: only honeypot reports go through here, and they start nothing.
    const limited = await startHarness({
      config: c.config,
      worker: false,
      rateLimits: { reports: { max: 2, timeWindow: 60_000 } },
    });
    extra.push(limited);
    const bot = { component: `${c.p}-quiet`, description: 'spam', website: 'http://spam.example' };
    expect((await post('/status/report', bot, '192.0.2.10', limited)).statusCode).toBe(303);
    expect((await post('/status/report', bot, '192.0.2.10', limited)).statusCode).toBe(303);

    const r = await post(
      '/status/report?lang=nb',
      { component: `${c.p}-quiet`, description: 'Innlogging <feiler>' },
      '192.0.2.10',
      limited,
    );
    expect(r.statusCode).toBe(429);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(r.body).toContain('For mange meldinger');
    expect(r.body).toContain('Innlogging &lt;feiler&gt;</textarea>');

    const json = await limited.app.inject({
      method: 'POST',
      url: '/api/reports',
      payload: { component: `${c.p}-quiet`, description: 'x' },
      remoteAddress: '192.0.2.10',
    });
    expect(json.statusCode).toBe(429);
    expect(json.json()).toMatchObject({ error: 'rate_limited' });

    // Another address has its own count.
    expect((await post('/status/report', bot, '192.0.2.11', limited)).statusCode).toBe(303);
  });
});
