/**
 * Swagger UI at /docs in Debian's Chromium: it renders the API's own OpenAPI document (the same as
 * /openapi.json) under its Content-Security-Policy, with nothing refused and nothing fetched from
 * another origin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { launchChromium, listen } from './chromium.js';

describe('Swagger UI at /docs', () => {
  let h: Harness;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    [h, browser] = await Promise.all([
      startHarness({ config: testConfig().config, worker: false }),
      launchChromium(),
    ]);
    base = await listen(h.app);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('serves the same OpenAPI document as /openapi.json', async () => {
    const [ui, doc] = await Promise.all(
      ['/docs/json', '/openapi.json'].map(async (u) =>
        (await h.app.inject({ method: 'GET', url: u })).json(),
      ),
    );
    expect(Object.keys(ui.paths)).toEqual(Object.keys(doc.paths));
    expect(Object.keys(ui.paths)).toEqual(
      expect.arrayContaining(['/api/incidents', '/v2/alerts', '/metrics']),
    );
  });

  it('renders every route of the API in the browser, under its CSP, from this origin only', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
    const r = await page.goto(`${base}/docs`);
    expect(r?.status()).toBe(200);
    const csp = (await r?.allHeaders())?.['content-security-policy'] ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self'");
    await page
      .locator('.opblock-summary-path', { hasText: '/api/incidents/{id}/acknowledge' })
      .first()
      .waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock-summary-path').count()).toBeGreaterThan(20);
    await expect(page.title()).resolves.toMatch(/Swagger UI/);
    expect(problems).toEqual([]);
    expect([...origins].filter((o) => o !== base && !o.startsWith('data:'))).toEqual([]);
    await page.close();
  });
});
