/**
 * Debian's Chromium (installed by .ci/run, never downloaded by a test tool), driven by playwright-core,
 * and the API app listening on loopback for it.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath))
    throw new Error(`${chromiumPath} is missing: apt-get install -y chromium (.ci/run does this)`);
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Listens on 127.0.0.1 on a free port; returns `http://127.0.0.1:<port>`. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/**
 * Signs `contact` in through the login form with its test token (`token-<id>`, as the harness makes
 * them) in a new context, which goes into `contexts` for the test to close; answers on /console.
 * By the form's field, not its words: the login page is in the browser's language (`locale`).
 */
export async function signIn(
  browser: Browser,
  base: string,
  contact: string,
  contexts: BrowserContext[],
  options: BrowserContextOptions = {},
): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.locator('#token').fill(`token-${contact}`);
  await page.locator('form[action^="/login"] button[type=submit]').click();
  await page.waitForURL(`${base}/console`);
  return page;
}
