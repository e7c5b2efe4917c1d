/**
 * What every inbound-event route shares (PagerDuty, Alertmanager, Opsgenie): integration keys by
 * their SHA-256, admission under bursts, coalescing of identical deliveries, in-order processing per
 * key, and the Temporal operations an alert needs: open or join, find the incident holding a key,
 * recover a key, acknowledge. See routes/events.ts for the rules these implement.
 */
import { timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { minSecretLength, type Config } from '../domain/config-schema.js';
import { closedStates, type Detection, type IncidentView } from '../domain/incident.js';
import { affectedServices, dependencyClosure } from '../domain/model.js';
import { reportIncident, reportRecovery, rootIncidentService } from '../client/incidents.js';
import {
  acknowledgeUpdate,
  incidentWorkflowId,
  parseIncidentId,
  viewQuery,
  type ReportResult,
} from '../workflows/definitions.js';
import type { IncidentService } from './incident-service.js';
import { HttpError, retryWhileClosing } from './errors.js';
import { sha256 } from './plugins/auth.js';

export type Integration = Config['integrations'][number];

export interface EventLimits {
  /** Temporal operations the event routes run at once (default 16). */
  concurrency: number;
  /** Event requests being processed at once before new ones are turned away (default 256). */
  maxPending: number;
}

/** JSON with sorted keys: the same event, however its keys are ordered, hashes the same. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
/** The services an integration acts for: its own, then those it lists. */
export const servicesOf = (g: Integration) => [
  g.service,
  ...(g.services ?? []).filter((s) => s !== g.service),
];

/** Runs at most `max` tasks at once; the rest wait in arrival order. */
export function limiter(max: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < max) active++;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

export function createEventIntake(
  app: FastifyInstance,
  o: { incidents: IncidentService; config: Config; limits?: Partial<EventLimits> },
) {
  const opts = o.incidents.temporal;
  const { client } = opts;
  const config = o.config;
  const limits: EventLimits = { concurrency: 16, maxPending: 256, ...o.limits };
  const temporal = limiter(limits.concurrency);
  const call = <T>(what: string, fn: () => Promise<T>) => temporal(() => o.incidents.call(what, fn));

  // Integration keys, by the hex SHA-256 of the key (from the config, or of the environment variable).
  const keyHashes = new Map<string, string[]>();
  for (const g of config.integrations) {
    const hashes: string[] = [];
    if (g.keySha256) hashes.push(g.keySha256);
    if (g.keyEnv) {
      const fromEnv = process.env[g.keyEnv];
      // The config loader refuses a short key at start-up; one that got here anyway is not used.
      if (fromEnv && fromEnv.length < minSecretLength)
        app.log.warn(
          { integration: g.id },
          `integration ${g.id}: ${g.keyEnv} is shorter than ${minSecretLength} characters; not used`,
        );
      else if (fromEnv) hashes.push(sha256(fromEnv));
      else if (!g.keySha256)
        app.log.warn(
          { integration: g.id },
          `integration ${g.id}: ${g.keyEnv} is not set; its events are refused`,
        );
    }
    keyHashes.set(g.id, hashes);
  }

  // Burst safety: admission, coalescing of identical deliveries, in-order processing per key.
  let pending = 0;
  const admit = () => {
    if (pending >= limits.maxPending) return false;
    pending++;
    return true;
  };
  const inFlight = new Map<string, Promise<unknown>>();
  const once = <T>(eventId: string, fn: () => Promise<T>): Promise<T> => {
    const running = inFlight.get(eventId);
    if (running) return running as Promise<T>;
    const p = fn().finally(() => inFlight.delete(eventId));
    inFlight.set(eventId, p);
    return p;
  };
  const tails = new Map<string, Promise<unknown>>();
  const inOrder = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const p = prev.then(fn, fn);
    const tail = p.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return p;
  };

  /**
   * Opens the service's incident or joins the open one (or the open incident of what it depends on).
   * A resolved incident still finishing (sending its resolved notices) rejects reports for a moment:
   * retried briefly, then 503 so the sender retries.
   */
  async function open(serviceId: string, d: Detection): Promise<ReportResult> {
    let target = serviceId;
    return retryWhileClosing(
      async () => {
        target = await call(`service "${serviceId}"`, () => rootIncidentService(opts, serviceId));
        const r = await call(`service "${target}"`, () =>
          reportIncident(opts, target, { ...d, fromService: target !== serviceId ? serviceId : undefined }),
        );
        // Read-your-writes: what the sender reads next already has this report.
        await o.incidents.settle(r.id, r.seq ?? (r.opened ? 1 : 0));
        return r;
      },
      [250, 500, 1000, 1000, 1000, 1000],
      () => new HttpError(503, 'incident_closing', `the incident of ${target} is closing; retry shortly`),
    );
  }

  /**
   * The open incident that holds `key`: the service's own, one of what it depends on that it joined,
   * or one of a dependent's that it joined (see rootIncidentService).
   */
  async function holding(serviceId: string, key: string): Promise<IncidentView | undefined> {
    const dependents = affectedServices(config, serviceId)
      .filter((a) => !a.root)
      .map((a) => a.id);
    for (const s of [...dependencyClosure(config, serviceId), ...dependents]) {
      const view = await call(`service "${s}"`, async () => {
        const handle = client.workflow.getHandle(incidentWorkflowId(s));
        const d = await handle.describe().catch((e: unknown) => {
          if (e instanceof WorkflowNotFoundError) return undefined;
          throw e;
        });
        return d?.status.name === 'RUNNING' ? handle.query(viewQuery) : undefined;
      });
      if (view && !closedStates.includes(view.state) && view.openKeys.includes(key)) return view;
    }
    return undefined;
  }

  async function recover(
    serviceId: string,
    r: { eventId: string; key: string; actor: string; detail: string },
  ): Promise<string | undefined> {
    const view = await holding(serviceId, r.key);
    if (!view) return undefined;
    const done = await call(`service "${view.service.id}"`, () => reportRecovery(opts, view.service.id, r));
    await o.incidents.settle(view.id, done?.seq);
    return view.id;
  }

  async function acknowledge(serviceId: string, key: string, eventId: string, actor: string) {
    const view = await holding(serviceId, key);
    if (!view) return undefined;
    const parsed = parseIncidentId(view.id)!;
    try {
      // The event id as update id: a redelivered acknowledge is recorded once.
      // The latest run (a long incident continues-as-new); the incident id guards against a newer one.
      const r = await call(`incident "${view.id}"`, () =>
        client.workflow
          .getHandle(parsed.workflowId)
          .executeUpdate(acknowledgeUpdate, { args: [{ actor, incidentId: view.id }], updateId: eventId }),
      );
      await o.incidents.settle(view.id, 'seq' in r ? r.seq : 0);
    } catch (e) {
      if (e instanceof HttpError && (e.statusCode === 404 || e.statusCode === 409)) return undefined;
      throw e;
    }
    return view.id;
  }

  /** The integration whose key hashes to `hash` among `kind`'s, if any (constant-time compare). */
  const byKey = (kind: Integration['kind'], key: string): Integration | undefined => {
    const given = Buffer.from(sha256(key), 'hex');
    return config.integrations.find(
      (g) =>
        g.kind === kind &&
        (keyHashes.get(g.id) ?? []).some((h) => timingSafeEqual(Buffer.from(h, 'hex'), given)),
    );
  };
  const release = () => {
    pending--;
  };

  return {
    config,
    call,
    keyHashes,
    byKey,
    admit,
    release,
    once,
    inOrder,
    open,
    holding,
    recover,
    acknowledge,
  };
}

export type EventIntake = ReturnType<typeof createEventIntake>;
