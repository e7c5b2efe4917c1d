/**
 * Fault drill 4: the API under a bounded burst of concurrent requests over real HTTP (127.0.0.1),
 * mixing valid calls, malformed bodies, oversized bodies (> the 64 KiB body limit) and bad tokens,
 * in three phases against a private Temporal dev server (SQLite):
 *
 *   A. Temporal up:    1,000 requests, at most 150 in flight.
 *   B. Temporal down:  the server is killed (`kill -9`); 200 requests.
 *   C. Temporal back:  the server is restarted on the same file; the API recovers by itself; 200 requests.
 *
 * Asserted: every answer is the one its request deserves (no 5xx at all while Temporal is up, and
 * 503 — never 500 — for what needs Temporal while it is down), no request fails at the HTTP level,
 * the process stays up, and every valid acknowledgement is applied once. "Applied once", precisely,
 * for each incident:
 *   1. exactly one acknowledgement changed its state (the first in the timeline, "escalation
 *      stopped", by `acknowledgedBy`), however many raced each other;
 *   2. every acknowledgement the API confirmed (200) is in the timeline exactly once — all but that
 *      first one as "acknowledged again" (each restarts the acknowledgement timeout) — per actor: so
 *      nothing confirmed is lost and nothing (an SDK retry, say) is applied twice;
 *   3. nothing refused (400, 401, 404, 413, 415, or 503 while Temporal was down) is in the timeline;
 *      a 503 while Temporal was up means the API stopped waiting, so that one is applied at most once;
 *   4. nobody was paged after it (only the level-1 page before the burst).
 * Notes (each with a unique text) and joining reports (each with an event id, some sent twice) are
 * held to the same rule, request by request.
 *
 * The staff rate limit is raised for the drill: at the default (600 a minute per address) most of a
 * burst from one address is answered 429, which would leave little of the Temporal path exercised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { IncidentView } from '../../domain/incident.js';
import { validateConfig } from '../../config/load.js';
import { startStack, tally, type Stack } from '../helpers/stack.js';
import { testConfig } from '../helpers/config.js';
import { eventually } from '../helpers/harness.js';
import { startDevServer, type DevServer } from '../helpers/processes.js';

const concurrency = 150;
const contacts = ['kari', 'ola', 'ingrid', 'per'] as const;

type Phase = 'up' | 'down';

interface Req {
  kind: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The statuses this request may get, by phase. */
  expect: Record<Phase, number[]>;
  incident?: string;
  actor?: string;
  note?: string;
  joinEventId?: string;
  joinReason?: string;
}

interface Res {
  req: Req;
  status: number;
  body: string;
  error?: string;
}

/** Small deterministic PRNG, so a failing mix can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const json = { 'content-type': 'application/json' };
const bearer = (id: string) => ({ authorization: `Bearer token-${id}` });
const up = (...s: number[]) => ({ up: s, down: s });
/** Needs Temporal: its answer while up, 503 while down. */
const temporal = (ok: number) => ({ up: [ok], down: [503] });

/** `n` requests of every kind, in proportions, for the given incidents and services. */
function mix(n: number, o: { incidents: string[]; services: string[]; seed: number; tag: string }): Req[] {
  const rnd = mulberry32(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const big = 'x'.repeat(70 * 1024);
  let seq = 0;
  const uniq = () => `${o.tag}-${++seq}`;
  const makers: [number, () => Req | Req[]][] = [
    // Valid calls.
    [
      20,
      () => {
        const incident = pick(o.incidents);
        const actor = pick(contacts);
        return {
          kind: 'ack',
          method: 'POST',
          path: `/api/incidents/${incident}/acknowledge`,
          headers: bearer(actor),
          expect: temporal(200),
          incident,
          actor,
        };
      },
    ],
    [
      10,
      () => {
        const incident = pick(o.incidents);
        const note = `burst note ${uniq()}`;
        return {
          kind: 'note',
          method: 'POST',
          path: `/api/incidents/${incident}/notes`,
          headers: { ...bearer(pick(contacts)), ...json },
          body: JSON.stringify({ text: note }),
          expect: temporal(200),
          incident,
          note,
        };
      },
    ],
    [
      5,
      () => {
        // A report joining the open incident; sometimes delivered twice (a retried request).
        const i = Math.floor(rnd() * o.services.length);
        const joinEventId = `burst-${uniq()}`;
        const joinReason = `another institution reports it (${joinEventId})`;
        const r: Req = {
          kind: 'join',
          method: 'POST',
          path: '/api/incidents',
          headers: { ...bearer(pick(contacts)), ...json },
          body: JSON.stringify({ service: o.services[i], reason: joinReason, eventId: joinEventId }),
          expect: temporal(200),
          incident: o.incidents[i],
          joinEventId,
          joinReason,
        };
        return rnd() < 0.3 ? [r, { ...r, kind: 'join (retried)' }] : r;
      },
    ],
    [
      12,
      () => ({
        kind: 'view',
        method: 'GET',
        path: `/api/incidents/${pick(o.incidents)}`,
        headers: bearer(pick(contacts)),
        // From the record store: Temporal being down changes nothing for reads.
        expect: up(200),
      }),
    ],
    [
      4,
      () => ({
        kind: 'list',
        method: 'GET',
        path: '/api/incidents?open=true&limit=20',
        headers: bearer(pick(contacts)),
        expect: up(200),
      }),
    ],
    [
      3,
      () => ({
        kind: 'public status',
        method: 'GET',
        path: '/api/status',
        expect: { up: [200], down: [200, 503] },
      }),
    ],
    [2, () => ({ kind: 'healthz', method: 'GET', path: '/healthz', expect: up(200) })],
    [2, () => ({ kind: 'readyz', method: 'GET', path: '/readyz', expect: { up: [200], down: [503] } })],
    [
      3,
      () => ({
        kind: 'unknown incident',
        method: 'POST',
        path: `/api/incidents/${pick(o.services)}.${randomUUID()}/acknowledge`,
        headers: bearer('kari'),
        expect: temporal(404),
      }),
    ],
    // Malformed.
    [
      4,
      () => ({
        kind: 'malformed json',
        method: 'POST',
        path: pick(['/api/incidents', `/api/incidents/${pick(o.incidents)}/notes`]),
        headers: { ...bearer('kari'), ...json },
        body: pick(['{"service":', '{not json}', '[1,2', '"', '{"text": "a",}']),
        expect: up(400),
      }),
    ],
    [
      5,
      () => ({
        kind: 'invalid body',
        method: 'POST',
        path: '/api/incidents',
        headers: { ...bearer('kari'), ...json },
        body: JSON.stringify(
          pick([
            { service: 5, reason: 'x' },
            { service: pick(o.services) },
            { service: pick(o.services), reason: '' },
            { service: pick(o.services), reason: 'x', severity: 'P9' },
            { service: pick(o.services), reason: 'x', extra: true },
            [{ service: pick(o.services), reason: 'x' }],
            null,
          ]),
        ),
        expect: up(400),
      }),
    ],
    [
      2,
      () => ({
        kind: 'unknown service',
        method: 'POST',
        path: '/api/incidents',
        headers: { ...bearer('kari'), ...json },
        body: JSON.stringify({ service: `nope-${uniq()}`, reason: 'x' }),
        expect: up(400),
      }),
    ],
    [
      3,
      () => {
        const incident = pick(o.incidents);
        return {
          kind: 'invalid note or status',
          method: 'POST',
          path: pick([`/api/incidents/${incident}/notes`, `/api/incidents/${incident}/status`]),
          headers: { ...bearer('kari'), ...json },
          body: JSON.stringify(
            pick([{ text: '' }, { text: { a: 1 } }, {}, { state: 'exploded' }, { note: 'x' }]),
          ),
          expect: up(400),
        };
      },
    ],
    [
      2,
      () => ({
        kind: 'wrong content type',
        method: 'POST',
        path: '/api/incidents',
        headers: { ...bearer('kari'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'service=x&reason=y',
        expect: up(415),
      }),
    ],
    [
      3,
      () =>
        pick<Req>([
          {
            kind: 'malformed id',
            method: 'POST',
            path: `/api/incidents/${'a'.repeat(200)}/acknowledge`,
            headers: bearer('kari'),
            expect: up(400),
          },
          {
            kind: 'malformed id',
            method: 'GET',
            path: '/api/incidents/Not_An..Id',
            headers: bearer('kari'),
            expect: up(404),
          },
          {
            // Looks like an id, but the run id is not a UUID: "no such incident" (or a 400), whether the
            // API notices by itself (any time) or Temporal tells it (only while up).
            kind: 'malformed run id',
            method: 'POST',
            path: `/api/incidents/${pick(o.services)}.${pick(['0'.repeat(36), '-'.repeat(36)])}/acknowledge`,
            headers: bearer('kari'),
            expect: { up: [400, 404], down: [400, 404, 503] },
          },
        ]),
    ],
    // Oversized (> 64 KiB).
    [
      6,
      () =>
        pick<Req>([
          {
            kind: 'oversized',
            method: 'POST',
            path: '/api/incidents',
            headers: { ...bearer('kari'), ...json },
            body: JSON.stringify({ service: pick(o.services), reason: big }),
            expect: up(413),
          },
          {
            kind: 'oversized',
            method: 'POST',
            path: `/api/incidents/${pick(o.incidents)}/notes`,
            headers: { ...bearer('kari'), ...json },
            body: JSON.stringify({ text: big }),
            expect: up(413),
          },
          {
            kind: 'oversized',
            method: 'POST',
            path: `/api/incidents/${pick(o.incidents)}/acknowledge`,
            headers: { ...bearer('kari'), ...json },
            body: JSON.stringify({ padding: big }),
            expect: up(413),
          },
        ]),
    ],
    // Bad tokens, on every kind of staff route (an acknowledgement among them must not be applied).
    [
      15,
      () => {
        const incident = pick(o.incidents);
        const headers = pick<Record<string, string>>([
          {},
          { authorization: 'Bearer wrong-token' },
          { authorization: 'Bearer token-nobody' },
          { authorization: 'Basic a2FyaTpwYXNz' },
          { authorization: 'Bearer' },
          { authorization: 'token-kari' },
          { authorization: `Bearer token-kari extra` },
        ]);
        return pick<Req>([
          {
            kind: 'bad token',
            method: 'POST',
            path: `/api/incidents/${incident}/acknowledge`,
            headers,
            expect: up(401),
          },
          {
            kind: 'bad token',
            method: 'POST',
            path: `/api/incidents/${incident}/notes`,
            headers: { ...headers, ...json },
            body: JSON.stringify({ text: `must never appear ${uniq()}` }),
            expect: up(401),
          },
          {
            kind: 'bad token',
            method: 'POST',
            path: '/api/incidents',
            headers: { ...headers, ...json },
            body: JSON.stringify({ service: pick(o.services), reason: `must never appear ${uniq()}` }),
            expect: up(401),
          },
          { kind: 'bad token', method: 'GET', path: `/api/incidents/${incident}`, headers, expect: up(401) },
        ]);
      },
    ],
  ];
  const total = makers.reduce((s, [w]) => s + w, 0);
  const out: Req[] = [];
  while (out.length < n) {
    let x = rnd() * total;
    const maker = makers.find(([w]) => (x -= w) < 0)![1];
    const made = maker();
    out.push(...(Array.isArray(made) ? made : [made]));
  }
  return out.slice(0, n);
}

async function burst(base: string, reqs: Req[]): Promise<{ results: Res[]; ms: number }> {
  const started = Date.now();
  const results: Res[] = new Array(reqs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < reqs.length; i = next++) {
      const req = reqs[i]!;
      try {
        const r = await fetch(base + req.path, {
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal: AbortSignal.timeout(30_000),
        });
        results[i] = { req, status: r.status, body: await r.text() };
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        results[i] = { req, status: 0, body: '', error: `${(e as Error).message} ${cause?.code ?? ''}` };
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { results, ms: Date.now() - started };
}

/** Requests whose answer was not one it may get, as readable lines (empty when all is well). */
function unexpected(results: Res[], phase: Phase): string[] {
  return results
    .filter((r) => !r.req.expect[phase].includes(r.status))
    .map(
      (r) =>
        `${r.req.kind}: ${r.req.method} ${r.req.path.slice(0, 80)} → ${r.status} ${r.error ?? r.body.slice(0, 160)}`,
    );
}

const summary = (results: Res[]) =>
  Object.entries(tally(results.map((r) => `${r.req.kind} ${r.status}`)))
    .map(([k, v]) => `${k}×${v}`)
    .join(', ');

/** What the Temporal client raised in a phase, behind the API's answers (a 503 or 500 has a cause). */
function logTemporalErrors(phase: string, stack: Stack, from: number) {
  const errors = stack.temporalErrors.slice(from).map(
    (e) =>
      `${e.op}: ${e.name} (${e.code}) ${e.message
        .replace(/"[^"]*"/g, '"…"')
        .replace(/(Deadline exceeded) after .*/, '$1')
        .slice(0, 160)}`,
  );
  if (errors.length === 0) return;
  const lines = Object.entries(tally(errors)).map(([k, v]) => `  ${v}× ${k}`);
  console.log(`[drill 4] ${phase}: Temporal client errors:\n${lines.join('\n')}`);
}

describe('drill: a burst of concurrent API requests, with Temporal up, down and back', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'drill-api-burst-'));
  let server: DevServer | undefined;
  let stack: Stack | undefined;
  let base: string;
  let incidents: string[];
  let a: { results: Res[]; ms: number };
  let b: { results: Res[]; ms: number };
  let c: { results: Res[]; ms: number };
  let recoveredMs: number;
  /** What GET /api/incidents/:id answered between the restart and full recovery. */
  let recovery: number[];
  let views: Map<string, IncidentView>;
  const reports = new Map<string, { reason: string }[]>();

  beforeAll(async () => {
    // DRILL_TEMPORAL_ARGS: extra dev-server arguments, to try a server-side fix without editing here.
    const extraArgs = process.env.DRILL_TEMPORAL_ARGS?.split(' ').filter(Boolean);
    server = await startDevServer({ dbFile: path.join(tmp, 'temporal.db'), extraArgs });
    const parts = [testConfig({ levelTimeout: '10m' }), testConfig({ levelTimeout: '10m' })];
    const config = validateConfig(
      { ...JSON.parse(JSON.stringify(parts[0]!.config)), services: parts.flatMap((p) => p.config.services) },
      'drill',
    );
    const services = config.services.map((x) => x.id);
    stack = await startStack({
      config,
      address: server.address,
      worker: true,
      dataDir: path.join(tmp, 'data'),
      // The API's own deadline for Temporal calls (8 s) is kept: it is what decides 503 under load.
      // Its 135 bad tokens from one address are answers to check, not a guess to throttle.
      rateLimits: {
        staff: { max: 100_000, timeWindow: 60_000 },
        wrongKeys: { max: 100_000, timeWindow: 60_000 },
      },
    });
    const api = stack;
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;

    // One open incident per service (four), each waiting at level 1.
    incidents = [];
    for (const service of services) {
      const r = await fetch(`${base}/api/incidents`, {
        method: 'POST',
        headers: { ...bearer('kari'), ...json },
        body: JSON.stringify({ service, reason: 'the export server does not answer' }),
      });
      expect(r.status).toBe(201);
      incidents.push(((await r.json()) as { incident: IncidentView }).incident.id);
    }
    for (const id of incidents)
      await eventually(
        async () => (await api.incidents.get(id)).timeline.some((e) => e.kind === 'paged'),
        20_000,
        `${id} paged`,
      );
    const o = { incidents, services };

    // A. Temporal up.
    a = await burst(base, mix(1000, { ...o, seed: 1, tag: 'a' }));
    console.log(`[drill 4] A (up): 1000 requests in ${a.ms} ms: ${summary(a.results)}`);
    logTemporalErrors('A', api, 0);
    const afterA = api.temporalErrors.length;

    // B. Temporal down (killed), and the API has noticed.
    await server.kill9();
    await eventually(async () => (await fetch(`${base}/readyz`)).status === 503, 10_000, 'readyz 503');
    b = await burst(base, mix(200, { ...o, seed: 2, tag: 'b' }));
    console.log(`[drill 4] B (down): 200 requests in ${b.ms} ms: ${summary(b.results)}`);
    logTemporalErrors('B', api, afterA);
    const afterB = api.temporalErrors.length;

    // C. Temporal back on the same file: the API recovers by itself. Until the worker has reconnected
    // too, reads may still fail (logged; what they must answer then is drill 2's second test).
    const restartedAt = Date.now();
    await server.restart();
    recovery = [];
    await eventually(
      async () => {
        const r = await fetch(`${base}/api/incidents/${incidents[0]}`, { headers: bearer('kari') });
        recovery.push(r.status);
        return r.status === 200;
      },
      45_000,
      'the API answering a view again',
    );
    recoveredMs = Date.now() - restartedAt;
    c = await burst(base, mix(200, { ...o, seed: 3, tag: 'c' }));
    console.log(
      `[drill 4] C (back after ${recoveredMs} ms, meanwhile ${recovery.join(' ')}): 200 requests in ${c.ms} ms: ${summary(c.results)}`,
    );
    logTemporalErrors('C', api, afterB);

    // Let anything the API gave up on (503) but Temporal still applies land before reading.
    await new Promise((r) => setTimeout(r, 2000));
    views = new Map();
    for (const id of incidents) views.set(id, await api.incidents.get(id));
    for (const id of incidents) reports.set(id, await api.records.listReports(id));
  }, 240_000);

  afterAll(async () => {
    await stack?.close();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('no request fails at the HTTP level, and the process stays up and ready', async () => {
    const failed = [...a.results, ...b.results, ...c.results].filter((r) => r.status === 0);
    expect(failed.map((r) => `${r.req.kind} ${r.req.method} ${r.req.path.slice(0, 60)}: ${r.error}`)).toEqual(
      [],
    );
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(stack!.workerError()).toBeUndefined();
  });

  it('while Temporal is up, every request gets the answer it deserves: no 5xx at all', () => {
    expect(unexpected(a.results, 'up')).toEqual([]);
    expect(unexpected(c.results, 'up')).toEqual([]);
  });

  it('while Temporal is down: 503 for what needs it, the usual 4xx for what does not, never 500', () => {
    expect(unexpected(b.results, 'down')).toEqual([]);
    expect(b.results.filter((r) => r.status >= 500 && r.status !== 503)).toEqual([]);
    expect(b.results.filter((r) => r.status === 503).length).toBeGreaterThan(80);
  });

  it('every valid acknowledgement is applied once (and so is every note and joining report)', () => {
    const all = [...a.results, ...b.results, ...c.results];
    // 503 while Temporal was up means the API gave up waiting: Temporal may still have applied it.
    const unknown = (r: Res) => r.status === 503 && !b.results.includes(r);
    for (const id of incidents) {
      const view = views.get(id)!;
      const mine = all.filter((r) => r.req.incident === id);

      const acks = view.timeline.filter((e) => e.kind === 'acknowledged');
      const stopping = acks.filter((e) => /escalation stopped/.test(e.detail));
      expect(stopping, `${id}: state-changing acknowledgements`).toHaveLength(1);
      expect(acks[0]).toBe(stopping[0]);
      expect(view.acknowledgedBy).toBe(stopping[0]!.actor);
      expect(view.state).toBe('acknowledged');
      expect(acks.every((e) => (contacts as readonly string[]).includes(e.actor))).toBe(true);
      for (const actor of contacts) {
        const asked = mine.filter((r) => r.req.kind === 'ack' && r.req.actor === actor);
        const confirmed = asked.filter((r) => r.status === 200).length;
        const maybe = asked.filter(unknown).length;
        const applied = acks.filter((e) => e.actor === actor).length;
        expect(applied, `${id}: acknowledgements by ${actor}`).toBeGreaterThanOrEqual(confirmed);
        expect(applied, `${id}: acknowledgements by ${actor}`).toBeLessThanOrEqual(confirmed + maybe);
      }
      expect(view.paged.map((p) => p.recipient.id)).toEqual(['kari']);

      const notes = view.timeline.filter((e) => e.kind === 'note').map((e) => e.detail);
      for (const r of mine.filter((x) => x.req.kind === 'note')) {
        const n = notes.filter((d) => d === r.req.note).length;
        if (r.status === 200) expect(n, `${r.req.note} (200)`).toBe(1);
        else if (unknown(r)) expect(n, `${r.req.note} (503)`).toBeLessThanOrEqual(1);
        else expect(n, `${r.req.note} (${r.status})`).toBe(0);
      }
      expect(notes.every((d) => d.startsWith('burst note '))).toBe(true);

      // Every joined report is in the record store (the timeline lists the first few per source).
      const joined = (reports.get(id) ?? []).map((x) => x.reason);
      const byEvent = new Map<string, Res[]>();
      for (const r of mine.filter((x) => x.req.kind.startsWith('join')))
        byEvent.set(r.req.joinEventId!, [...(byEvent.get(r.req.joinEventId!) ?? []), r]);
      for (const [eventId, rs] of byEvent) {
        const n = joined.filter((d) => d === rs[0]!.req.joinReason!).length;
        if (rs.some((r) => r.status === 200)) expect(n, `${eventId} (200)`).toBe(1);
        else if (rs.some(unknown)) expect(n, `${eventId} (503)`).toBeLessThanOrEqual(1);
        else expect(n, `${eventId} (${rs.map((r) => r.status).join(',')})`).toBe(0);
      }
      const reasons = [...byEvent.values()].map((rs) => rs[0]!.req.joinReason!);
      for (const d of joined)
        expect(
          reasons.some((reason) => d === reason),
          d,
        ).toBe(true);
      expect(view.timeline.some((e) => e.detail.includes('must never appear'))).toBe(false);
    }
    // The burst really exercised what it claims (even when many valid calls are answered 503).
    expect(all.filter((r) => r.req.kind === 'ack' && r.status === 200).length).toBeGreaterThan(20);
  });
});
