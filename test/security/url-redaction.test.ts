/**
 * L6: URLs are never written to the timeline or the logs. A team's chat webhook whose URL is
 * malformed (one in the config, one in the variable its `urlEnv` names) fails, and the incident's
 * timeline and the worker process's log say so by the webhook's place in the config — no part of
 * the URL but its redacted form ("[invalid URL]").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { validateConfig } from '../../config/load.js';
import { redactUrl, redactUrls } from '../../domain/redact.js';
import { testConfig } from '../helpers/config.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { startWorkerProcess, type Proc } from '../helpers/processes.js';

// Each piece of the URLs that must not appear anywhere (the host part of a URL that does not parse
// is as secret as its path: nobody can tell where it ends).
const configUrl = 'https://hooks slack-l6.test/services/T0CFGSECRET/B0CFGSECRET/cfgTokenSecret';
const envUrl = 'http://[hooks-env-l6.test/v1/ENVPATHSECRET?token=envQuerySecret';
const pieces = [
  'slack-l6',
  'T0CFGSECRET',
  'B0CFGSECRET',
  'cfgTokenSecret',
  'hooks-env-l6',
  'ENVPATHSECRET',
  'envQuerySecret',
];

describe('URLs in the timeline and the log', () => {
  let h: Harness;
  let worker: Proc | undefined;
  let tmp: string;
  let serviceId = '';

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'url-redaction-'));
    const base = testConfig();
    serviceId = base.serviceId;
    const raw = JSON.parse(JSON.stringify(base.config)) as Record<string, unknown>;
    raw.teams = [
      {
        id: 'integration',
        name: 'Integration team',
        members: ['kari'],
        webhooks: [
          { format: 'slack', url: configUrl },
          { format: 'json', urlEnv: 'L6_TEAM_WEBHOOK_URL' },
        ],
      },
    ];
    const config = validateConfig(raw, 'url-redaction-test');
    const file = path.join(tmp, 'config.yaml');
    writeFileSync(file, stringify(config));
    h = await startHarness({ config, worker: false });
    worker = await startWorkerProcess({
      configPath: file,
      temporalAddress: inject('temporalAddress'),
      taskQueue: h.taskQueue,
      dataDir: tmp,
      databaseUrl: h.store.url,
      env: { WORKER_METRICS_ADDRESS: '', L6_TEAM_WEBHOOK_URL: envUrl, LOG_LEVEL: 'debug' },
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await h?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('redactUrl keeps scheme, user and host; redactUrls finds URLs in text and drops what does not parse', () => {
    expect(redactUrl('https://hooks.slack.com/services/T0/B0/x')).toBe('https://hooks.slack.com/…');
    expect(redactUrl('https://u:pw@api.test:8443/a?b=c#d')).toBe('https://u:***@api.test:8443/…?…#…');
    expect(redactUrl(configUrl)).toBe('[invalid URL]');
    expect(redactUrl(envUrl)).toBe('[invalid URL]');
    expect(redactUrls(`POST ${'https://ntfy.test/topic-secret'} failed.`)).toBe(
      'POST https://ntfy.test/… failed.',
    );
    expect(redactUrls(`TypeError: Failed to parse URL from ${configUrl}`)).toBe(
      'TypeError: Failed to parse URL',
    );
  });

  it(
    'a malformed webhook URL: the timeline and the worker log name the webhook, not the URL',
    { timeout: 120_000 },
    async () => {
      const r = await h.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: { ...h.auth('kari'), 'content-type': 'application/json' },
        payload: { service: serviceId, reason: 'institutions cannot fetch the XML export', skipVerify: true },
      });
      expect(r.statusCode).toBe(201);
      const id = (r.json() as { incident: { id: string } }).incident.id;

      const failed = await eventually(
        async () => {
          const view = await h.incidents.get(id);
          const lines = view.timeline.filter((e) => e.kind === 'webhook-failed');
          return lines.length >= 2 ? { view, lines } : undefined;
        },
        60_000,
        'two webhook-failed lines',
      );
      const details = failed.lines.map((e) => e.detail).sort();
      expect(details[0]).toMatch(
        /team integration's json webhook: the URL of team integration's webhook 1 is not a valid URL \(\[invalid URL\]\)/,
      );
      expect(details[1]).toMatch(
        /team integration's slack webhook: the URL of team integration's webhook 0 is not a valid URL/,
      );

      // The worker logs the failed activity (the SDK's "Activity failed"): the log line is there.
      await worker!.waitForOutput(/Activity failed[\s\S]*not a valid URL/, 20_000);
      const record = JSON.stringify(failed.view);
      const log = worker!.output();
      for (const piece of pieces) {
        expect(record, `timeline: ${piece}`).not.toContain(piece);
        expect(log, `worker log: ${piece}`).not.toContain(piece);
      }
    },
  );
});
