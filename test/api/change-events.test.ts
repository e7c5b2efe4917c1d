/**
 * Change events from the tools that make changes (#14 item 8), with each format's documented example
 * payload (test/fixtures/change-events/: CDEvents' examples/service_deployed.json from the CDEvents
 * spec; GitLab's "Deployment events" payload example from its webhook events page; GitHub's
 * deployment_status example from octokit/webhooks' payload-examples, the user and repository objects
 * trimmed of their *_url links). Against the real stack (Temporal dev server, worker, change log
 * workflow, record store): valid and invalid signatures and tokens, throttling of wrong ones, fields
 * that are wrong named in the answer, and the change in GET /api/changes.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyGithubSignature, verifyGitlabToken } from '../../api/routes/change-webhooks.js';
import {
  gitlabTime,
  readCdevent,
  readGithubDeploymentStatus,
  readGitlabDeployment,
} from '../../domain/change-sources.js';
import { testConfig } from '../helpers/config.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/change-events');
const raw = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests edit the examples freely
const fixture = (name: string) => JSON.parse(raw(name)) as Record<string, any>;

describe('reading the documented examples (pure)', () => {
  it("CDEvents' service.deployed example is a deploy of mySubject123 to test123 at its timestamp", () => {
    expect(readCdevent(fixture('cdevents-service-deployed.json'))).toEqual({
      change: {
        id: 'cdevents:/event/source/123:271069a8-fc18-44f1-b38f-9d70a1695819',
        who: '/event/source/123',
        what: expect.stringMatching(/^deployed mySubject123 \(pkg:oci\/myapp@sha256.*\) to test123/),
        hosts: [],
        services: ['mySubject123'],
        at: '2023-03-20T14:27:05.315Z',
      },
    });
    // The same CDEvent in a structured-mode CloudEvent.
    const ce = {
      specversion: '1.0',
      id: 'x',
      source: '/s',
      type: 'dev.cdevents.service.deployed.0.1.1',
      data: fixture('cdevents-service-deployed.json'),
    };
    expect(readCdevent(ce, { services: ['payments'] })).toMatchObject({
      change: { services: ['mySubject123', 'payments'] },
    });
  });

  it("GitHub's deployment_status example is Codertocat's deploy of Hello-World to production", () => {
    expect(readGithubDeploymentStatus(fixture('github-deployment-status.json'))).toEqual({
      change: {
        id: 'github:Codertocat/Hello-World:deployment_status:209916254',
        who: 'Codertocat',
        what: 'GitHub deployment of Codertocat/Hello-World@f95f852bd8fc (master) to production: success',
        hosts: [],
        services: ['Hello-World'],
        at: '2019-05-15T15:20:55.000Z',
      },
    });
  });

  it("GitLab's deployment example is root's deploy to staging at 21:50 +02:00", () => {
    expect(readGitlabDeployment(fixture('gitlab-deployment.json'))).toEqual({
      change: {
        id: 'gitlab:root/test-deployment-webhooks:deployment:15:success',
        who: 'root',
        what: 'GitLab deployment of root/test-deployment-webhooks@279484c0 to staging: success — Add new file',
        hosts: ['staging.example.com'],
        services: ['test-deployment-webhooks'],
        at: '2021-04-28T19:50:00.000Z',
      },
    });
  });

  it.each([
    ['2021-04-28 21:50:00 +0200', '2021-04-28T19:50:00.000Z'],
    ['2025-01-15 12:20:00 UTC', '2025-01-15T12:20:00.000Z'],
    ['2025-01-15T12:20:00Z', '2025-01-15T12:20:00.000Z'],
    ['yesterday', undefined],
  ])('GitLab time %s → %s', (s, iso) => expect(gitlabTime(s)).toBe(iso));

  it.each([
    [
      'cdevents without artifactId',
      () => {
        const e = fixture('cdevents-service-deployed.json');
        delete e.subject.content.artifactId;
        return readCdevent(e);
      },
      'subject.content.artifactId',
    ],
    [
      'cdevents with a bad timestamp',
      () => {
        const e = fixture('cdevents-service-deployed.json');
        e.context.timestamp = 'soon';
        return readCdevent(e);
      },
      'context.timestamp',
    ],
    ['cdevents of another kind of thing', () => readCdevent({ context: { type: 'x.y' } }), 'context.type'],
    [
      'github without repository.full_name',
      () => {
        const e = fixture('github-deployment-status.json');
        delete e.repository.full_name;
        return readGithubDeploymentStatus(e);
      },
      'repository.full_name',
    ],
    ['github not an object', () => readGithubDeploymentStatus([1]), 'body'],
    [
      'gitlab without deployment_id',
      () => {
        const e = fixture('gitlab-deployment.json');
        delete e.deployment_id;
        return readGitlabDeployment(e);
      },
      'deployment_id',
    ],
  ])('%s names the field', (_name, read, field) => expect(read()).toMatchObject({ field }));

  it('deploys still running, and other CDEvents, are not changes', () => {
    const gh = fixture('github-deployment-status.json');
    gh.deployment_status.state = 'in_progress';
    expect(readGithubDeploymentStatus(gh)).toMatchObject({ ignored: expect.stringMatching(/in_progress/) });
    const gl = fixture('gitlab-deployment.json');
    gl.status = 'running';
    expect(readGitlabDeployment(gl)).toMatchObject({ ignored: expect.stringMatching(/running/) });
    const cd = fixture('cdevents-service-deployed.json');
    cd.context.type = 'dev.cdevents.pipelinerun.started.0.1.1';
    expect(readCdevent(cd)).toMatchObject({ ignored: expect.stringMatching(/not a deployment/) });
  });
});

describe('signatures', () => {
  it("accepts GitHub's documented example signature and refuses any other", () => {
    // docs.github.com, "Validating webhook deliveries": secret, payload and signature as published.
    const secret = "It's a Secret to Everybody";
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verifyGithubSignature(secret, 'Hello, World!', sig)).toBe(true);
    expect(verifyGithubSignature(secret, 'Hello, World?', sig)).toBe(false);
    expect(verifyGithubSignature('another secret', 'Hello, World!', sig)).toBe(false);
    expect(verifyGithubSignature(secret, 'Hello, World!', sig.replace('sha256=', 'sha1='))).toBe(false);
    expect(verifyGithubSignature(secret, 'Hello, World!', undefined)).toBe(false);
  });

  it('compares GitLab tokens exactly', () => {
    expect(verifyGitlabToken('s3cret', 's3cret')).toBe(true);
    expect(verifyGitlabToken('s3cret', 's3cret ')).toBe(false);
    expect(verifyGitlabToken('s3cret', '')).toBe(false);
  });
});

describe('change event routes (real stack)', () => {
  let h: Harness;
  let serviceId: string;
  const githubSecret = randomBytes(24).toString('base64url');
  const gitlabToken = randomBytes(24).toString('base64url');

  beforeAll(async () => {
    // Secrets only from the environment (the app reads process.env when no env is given).
    process.env.GITHUB_WEBHOOK_SECRET = githubSecret;
    process.env.GITLAB_WEBHOOK_TOKEN = gitlabToken;
    const t = testConfig();
    serviceId = t.serviceId;
    h = await startHarness({
      config: t.config,
      rateLimits: { wrongKeys: { max: 3, timeWindow: 60_000 } },
    });
  });
  afterAll(async () => {
    await h?.close();
    delete process.env.GITHUB_WEBHOOK_SECRET;
    delete process.env.GITLAB_WEBHOOK_TOKEN;
  });

  const sign = (body: string, secret = githubSecret) =>
    `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const github = (body: string, headers: Record<string, string>, o: { url?: string; ip?: string } = {}) =>
    h.app.inject({
      method: 'POST',
      url: o.url ?? '/api/changes/github',
      payload: body,
      remoteAddress: o.ip ?? '198.51.100.1',
      headers: { 'content-type': 'application/json', 'x-github-event': 'deployment_status', ...headers },
    });
  const gitlab = (
    body: string,
    token: string | undefined,
    ip = '198.51.100.2',
    url = '/api/changes/gitlab',
  ) =>
    h.app.inject({
      method: 'POST',
      url,
      payload: body,
      remoteAddress: ip,
      headers: {
        'content-type': 'application/json',
        'x-gitlab-event': 'Deployment Hook',
        ...(token === undefined ? {} : { 'x-gitlab-token': token }),
      },
    });
  const changes = async (query = '') => {
    const r = await h.app.inject({ method: 'GET', url: `/api/changes${query}`, headers: h.auth('kari') });
    expect(r.statusCode).toBe(200);
    return (r.json() as { changes: { id: string; what: string; recordedBy: string }[] }).changes;
  };

  it('CDEvents: the example, with a responder token, is recorded and listed for its service', async () => {
    const body = raw('cdevents-service-deployed.json');
    const none = await h.app.inject({
      method: 'POST',
      url: '/api/changes/cdevents',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    expect(none.statusCode).toBe(401);
    const r = await h.app.inject({
      method: 'POST',
      url: `/api/changes/cdevents?services=${serviceId}`,
      payload: body,
      headers: { 'content-type': 'application/cloudevents+json', ...h.auth('kari') },
    });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({
      recorded: true,
      change: { id: 'cdevents:/event/source/123:271069a8-fc18-44f1-b38f-9d70a1695819', recordedBy: 'kari' },
    });
    // What the postmortem asks the change log: changes naming the incident's service.
    const listed = await changes(`?target=${serviceId}`);
    expect(listed.map((c) => c.id)).toEqual([
      'cdevents:/event/source/123:271069a8-fc18-44f1-b38f-9d70a1695819',
    ]);
    expect((await changes('?target=mySubject123')).length).toBe(1);

    const broken = JSON.parse(body);
    delete broken.subject.content.environment;
    const bad = await h.app.inject({
      method: 'POST',
      url: '/api/changes/cdevents',
      payload: broken,
      headers: h.auth('kari'),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'subject.content.environment', error: 'invalid_request' });
  });

  it('GitHub: the signed example is recorded; unsigned, forged and altered ones get 401 and record nothing', async () => {
    const body = raw('github-deployment-status.json');
    expect((await github(body, {})).statusCode).toBe(401);
    const forged = await github(body, { 'x-hub-signature-256': sign(body, 'not the secret') });
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({
      field: 'X-Hub-Signature-256',
      message: expect.stringMatching(/match/),
    });
    const altered = body.replace('"success"', '"failure"');
    expect((await github(altered, { 'x-hub-signature-256': sign(body) })).statusCode).toBe(401);
    expect((await changes()).filter((c) => c.id.startsWith('github:'))).toEqual([]);

    const ok = await github(body, { 'x-hub-signature-256': sign(body) });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({
      recorded: true,
      change: {
        id: 'github:Codertocat/Hello-World:deployment_status:209916254',
        recordedBy: 'github-webhook',
      },
    });
    // GitHub redelivers: the same change, once.
    expect((await github(body, { 'x-hub-signature-256': sign(body) })).statusCode).toBe(201);
    const listed = (await changes('?target=Hello-World')).map((c) => c.what);
    expect(listed).toEqual([
      'GitHub deployment of Codertocat/Hello-World@f95f852bd8fc (master) to production: success',
    ]);

    // The form content type GitHub also offers, signed as sent.
    const form = `payload=${encodeURIComponent(body.replace('209916254', '209916255'))}`;
    const viaForm = await github(form, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-hub-signature-256': sign(form),
    });
    expect(viaForm.statusCode).toBe(201);

    const ping = await github('{"zen":"Keep it logically awesome."}', {
      'x-github-event': 'ping',
      'x-hub-signature-256': sign('{"zen":"Keep it logically awesome."}'),
    });
    expect(ping.statusCode).toBe(200);

    const broken = JSON.stringify({ ...JSON.parse(body), repository: { name: 'x' } });
    const bad = await github(broken, { 'x-hub-signature-256': sign(broken) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      field: 'repository.full_name',
      message: 'repository.full_name: is required',
    });
    const notJson = await github('{"deployment_status":', {
      'x-hub-signature-256': sign('{"deployment_status":'),
    });
    expect(notJson.statusCode).toBe(400);
  });

  it('GitLab: the example with the right token is recorded for its host; a wrong or missing token gets 401', async () => {
    const body = raw('gitlab-deployment.json');
    expect((await gitlab(body, undefined)).statusCode).toBe(401);
    const wrong = await gitlab(body, 'guess');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ field: 'X-Gitlab-Token' });
    const ok = await gitlab(body, gitlabToken, '198.51.100.2', `/api/changes/gitlab?services=${serviceId}`);
    expect(ok.statusCode).toBe(201);
    expect((await changes('?target=staging.example.com')).map((c) => c.id)).toEqual([
      'gitlab:root/test-deployment-webhooks:deployment:15:success',
    ]);
    expect((await changes(`?target=${serviceId}`)).map((c) => c.id)).toContain(
      'gitlab:root/test-deployment-webhooks:deployment:15:success',
    );
    const running = await gitlab(body.replace('"success"', '"running"'), gitlabToken);
    expect(running.statusCode).toBe(202);
    expect(running.json()).toMatchObject({ recorded: false });
    const bad = await gitlab(body.replace('"deployment_id": 15', '"deployment_id": "15"'), gitlabToken);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'deployment_id' });
  });

  it('wrong signatures and tokens are throttled like every other key: then 429 even with the right one', async () => {
    const ip = '203.0.113.77';
    const body = raw('gitlab-deployment.json');
    for (let i = 0; i < 3; i++) expect((await gitlab(body, `guess-${i}`, ip)).statusCode).toBe(401);
    const over = await gitlab(body, 'guess-4', ip);
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.json()).toMatchObject({ field: 'X-Gitlab-Token' });
    // The right token from that address does not help, on either webhook.
    expect((await gitlab(body, gitlabToken, ip)).statusCode).toBe(429);
    const gh = raw('github-deployment-status.json');
    expect((await github(gh, { 'x-hub-signature-256': sign(gh) }, { ip })).statusCode).toBe(429);
    // Another address is not affected.
    expect((await gitlab(body, gitlabToken, '203.0.113.78')).statusCode).toBe(201);
  });
});
