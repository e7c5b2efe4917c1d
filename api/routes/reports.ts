import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../domain/config-schema.js';
import type { IncidentService } from '../incident-service.js';
import type { RateLimit } from '../plugins/security.js';
import { HttpError } from '../errors.js';

/** What a customer sends, from JSON or from the status page's form (fields may be missing there). */
export interface CustomerReport {
  /** Service id or public component name. */
  component?: string;
  description?: string;
  contact?: string;
  /** Honeypot: people leave it empty; bots fill it in. */
  website?: string;
}

export type ReportField = 'component' | 'description' | 'contact';

/** Longest accepted values, in characters (code points, as the JSON schema counts them). */
export const reportMaxLength = { component: 200, description: 2000, contact: 200, website: 500 } as const;

export type ReportOutcome =
  | { kind: 'accepted'; service: string; incidentId: string }
  /** The honeypot was filled: answered like a success, nothing recorded. */
  | { kind: 'ignored' }
  | { kind: 'invalid'; field: ReportField; problem: 'missing' | 'too_long' | 'unknown' }
  | { kind: 'rate_limited'; retryAfterSeconds: number };

export interface ReportIntake {
  /** The public components a report can name, in configuration order. */
  readonly components: readonly { service: string; component: string }[];
  /**
   * Checks a report and, if it is one, declares it: the incident workflow runs the component's
   * probes at once and opens an incident or joins the open one. Throws only what `declare` throws
   * (e.g. 503 while Temporal is unreachable).
   */
  submit(report: CustomerReport, clientAddress: string): Promise<ReportOutcome>;
}

const length = (s: string) => [...s].length;

/**
 * A reporter's pseudonym: a keyed hash of the client address, never the address itself (it ends up
 * in workflow history and the record). The key is SESSION_SECRET, so every API instance gives one
 * address the same pseudonym; without it, one per process.
 */
const reporterPseudonyms = (key: string | Buffer) => (address: string) =>
  createHmac('sha256', key).update(`reporter\0${address}`).digest('hex').slice(0, 16);

/**
 * Customer reports ("report a problem"), public: one intake, and one count of reports per client
 * address, for both the JSON endpoint and the status page's form. A report runs the component's
 * probes at once through the incident's verification, and opens an incident or joins the open one.
 * The first customer report's time is kept, so the postmortem shows whether monitoring or a customer
 * noticed first.
 */
export function createReportIntake(o: {
  incidents: Pick<IncidentService, 'declare'>;
  config: Config;
  /** Reports per client address and window (default 5 a minute). */
  limit?: RateLimit;
  /** Keys the reporters' pseudonyms (SESSION_SECRET); unset → a random key per process. */
  reporterKey?: string;
  now?: () => number;
}): ReportIntake {
  const { max, timeWindow } = o.limit ?? { max: 5, timeWindow: 60_000 };
  const now = o.now ?? Date.now;
  const reporterOf = reporterPseudonyms(o.reporterKey ?? randomBytes(32));
  const hits = new Map<string, number[]>();
  /** 0 when allowed (and counted), else the seconds until the oldest counted report leaves the window. */
  const wait = (key: string): number => {
    const t = now();
    const recent = (hits.get(key) ?? []).filter((at) => t - at < timeWindow);
    if (recent.length >= max) {
      hits.set(key, recent);
      return Math.max(1, Math.ceil((recent[0]! + timeWindow - t) / 1000));
    }
    recent.push(t);
    hits.delete(key); // re-inserted last: the map's first key is the least recently seen address
    hits.set(key, recent);
    if (hits.size > 10_000) hits.delete(hits.keys().next().value!);
    return 0;
  };
  const services = o.config.services.filter((s) => s.component);
  const components = services.map((s) => ({ service: s.id, component: s.component! }));

  return {
    components,
    async submit(report, clientAddress) {
      const component = (report.component ?? '').trim();
      // Browsers send a textarea's line breaks as CRLF.
      const description = (report.description ?? '').replace(/\r\n?/g, '\n').trim();
      const contact = (report.contact ?? '').trim();
      if (!component) return { kind: 'invalid', field: 'component', problem: 'missing' };
      if (length(component) > reportMaxLength.component)
        return { kind: 'invalid', field: 'component', problem: 'unknown' };
      if (!description) return { kind: 'invalid', field: 'description', problem: 'missing' };
      if (length(description) > reportMaxLength.description)
        return { kind: 'invalid', field: 'description', problem: 'too_long' };
      if (length(contact) > reportMaxLength.contact)
        return { kind: 'invalid', field: 'contact', problem: 'too_long' };

      const retryAfterSeconds = wait(clientAddress);
      if (retryAfterSeconds > 0) return { kind: 'rate_limited', retryAfterSeconds };
      // A filled honeypot gets the same answer as a report and changes nothing.
      if (report.website) return { kind: 'ignored' };
      const service = services.find((s) => s.id === component || s.component === component);
      if (!service) return { kind: 'invalid', field: 'component', problem: 'unknown' };
      const digest = createHash('sha256')
        .update(`${clientAddress}\0${description}`)
        .digest('hex')
        .slice(0, 16);
      const declared = await o.incidents.declare({
        service: service.id,
        reason: `customer report: ${description}`,
        actor: 'customer',
        source: 'customer',
        contact: contact || undefined,
        // Who reported it, without the address: a second reporter corroborates a probe-less report.
        reporter: reporterOf(clientAddress),
        // The same report submitted twice within a minute is one report.
        eventId: `customer:${digest}:${Math.floor(now() / 60_000)}`,
        withoutView: true,
      });
      return { kind: 'accepted', service: service.id, incidentId: declared.id };
    },
  };
}

const problemText = { missing: 'is required', too_long: 'is too long', unknown: 'unknown component' };

export const reportRoutes: FastifyPluginAsyncTypebox<{ reports: ReportIntake }> = async (app, o) => {
  app.post(
    '/api/reports',
    {
      schema: {
        tags: ['status'],
        summary: 'Report a problem with a public component',
        body: Type.Object(
          {
            component: Type.String({
              minLength: 1,
              maxLength: reportMaxLength.component,
              description: 'service id or public component name',
            }),
            description: Type.String({ minLength: 1, maxLength: reportMaxLength.description }),
            contact: Type.Optional(Type.String({ maxLength: reportMaxLength.contact })),
            /** Honeypot: people leave it empty; bots fill it in. */
            website: Type.Optional(Type.String({ maxLength: reportMaxLength.website })),
          },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ received: Type.Boolean() }) },
      },
    },
    async (req, reply) => {
      const outcome = await o.reports.submit(req.body, req.ip);
      switch (outcome.kind) {
        case 'accepted':
        case 'ignored':
          return reply.status(202).send({ received: true });
        case 'rate_limited':
          reply.header('retry-after', String(outcome.retryAfterSeconds));
          throw new HttpError(
            429,
            'rate_limited',
            'too many reports from this address; try again in a minute',
          );
        case 'invalid':
          throw new HttpError(
            400,
            'invalid_request',
            outcome.problem === 'unknown'
              ? `component: unknown component "${req.body.component}"`
              : `${outcome.field}: ${problemText[outcome.problem]}`,
          );
      }
    },
  );
};
