/**
 * The API's view of incidents: every Temporal call the routes make goes through here, with a deadline
 * so an unreachable server becomes a 503 instead of a hung request.
 */
import { randomUUID } from 'node:crypto';
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { Config, Severity } from '../domain/config-schema.js';
import type { DetectionSource, IncidentState, IncidentView, StatusState } from '../domain/incident.js';
import { serviceById } from '../domain/model.js';
import { reportIncident } from '../client/incidents.js';
import {
  acknowledgeUpdate,
  incidentId,
  incidentServiceKey,
  incidentSeverityKey,
  incidentStateKey,
  noteUpdate,
  parseIncidentId,
  publishStatusUpdate,
  resolveUpdate,
  viewQuery,
  type ReportResult,
} from '../workflows/definitions.js';
import type { incidentWorkflow } from '../workflows/incident.js';
import { fromTemporal, HttpError, notFound } from './errors.js';

export interface IncidentSummary {
  id: string;
  service: string;
  severity: string;
  state: string;
  openedAt: string;
  closedAt?: string;
  running: boolean;
}

export interface DeclareRequest {
  service: string;
  reason: string;
  severity?: Severity;
  skipVerify?: boolean;
  eventId?: string;
  actor: string;
  source?: DetectionSource;
  key?: string;
  contact?: string;
}

export interface IncidentServiceOptions {
  client: Client;
  /** The client's connection, for the readiness check. */
  connection: Connection;
  config: Config;
  taskQueue: string;
  publicBaseUrl: string;
  /** Milliseconds each Temporal call may take before the API gives up with 503. */
  callTimeoutMs?: number;
}

/**
 * At most `limit` calls at once per key, the rest queued in order. Temporal refuses more than a
 * handful of updates in flight on one workflow (10 by default, fixed on Temporal Cloud); queueing
 * them here turns a burst of acknowledgements on one incident into a short wait, not errors.
 */
export function keyedLimiter(limit: number) {
  const active = new Map<string, { running: number; waiting: (() => void)[] }>();
  return {
    async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      let slot = active.get(key);
      if (!slot) active.set(key, (slot = { running: 0, waiting: [] }));
      if (slot.running >= limit) await new Promise<void>((r) => slot!.waiting.push(r));
      slot.running++;
      try {
        return await fn();
      } finally {
        slot.running--;
        const next = slot.waiting.shift();
        if (next) next();
        else if (slot.running === 0) active.delete(key);
      }
    },
  };
}

export function createIncidentService(o: IncidentServiceOptions) {
  const perIncident = keyedLimiter(8);
  const timeout = o.callTimeoutMs ?? 15_000;
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await o.client.withDeadline(Date.now() + timeout, fn);
    } catch (e) {
      throw fromTemporal(e, what);
    }
  };

  const handleFor = (id: string): WorkflowHandle<typeof incidentWorkflow> => {
    const parsed = parseIncidentId(id);
    if (!parsed) throw notFound(`incident "${id}"`);
    return o.client.workflow.getHandle(parsed.workflowId, parsed.runId);
  };

  /** An update on a finished run is "not found" to Temporal; to the caller it is a closed incident. */
  const update = async <A>(id: string, run: (h: WorkflowHandle<typeof incidentWorkflow>) => Promise<A>) => {
    const h = handleFor(id);
    try {
      return await call(`incident "${id}"`, () => perIncident.run(h.workflowId, () => run(h)));
    } catch (e) {
      if (e instanceof HttpError && e.statusCode === 404) {
        const closed = await call(`incident "${id}"`, async () => {
          const d = await h.describe();
          return d.status.name !== 'RUNNING' ? d : undefined;
        }).catch(() => undefined);
        if (closed) {
          const state = closed.typedSearchAttributes.get(incidentStateKey) ?? 'closed';
          throw new HttpError(409, 'incident_closed', `incident ${id} is already ${state}`);
        }
      }
      throw e;
    }
  };

  return {
    /** For routes that talk to other workflows (monitors, inbound events): the same client and deadline. */
    temporal: { client: o.client, config: o.config, taskQueue: o.taskQueue, publicBaseUrl: o.publicBaseUrl },
    call,

    async declare(req: DeclareRequest): Promise<ReportResult & { view: IncidentView }> {
      const service = serviceById(o.config, req.service);
      if (!service) throw new HttpError(400, 'invalid_request', `service: unknown service "${req.service}"`);
      const detection = {
        eventId: req.eventId ?? randomUUID(),
        source: req.source ?? ('api' as const),
        actor: req.actor,
        reason: req.reason,
        severity: req.severity,
        skipVerify: req.skipVerify,
        key: req.key,
        contact: req.contact,
      };
      const result = await call(`service "${service.id}"`, () =>
        reportIncident(
          { client: o.client, config: o.config, taskQueue: o.taskQueue, publicBaseUrl: o.publicBaseUrl },
          service.id,
          detection,
        ),
      );
      const view = await this.get(result.id);
      return { ...result, view };
    },

    async get(id: string): Promise<IncidentView> {
      const h = handleFor(id);
      return call(`incident "${id}"`, () => h.query(viewQuery));
    },

    async list(filter: {
      service?: string;
      severity?: string;
      state?: string;
      open?: boolean;
      limit: number;
    }) {
      const clauses = ["WorkflowType = 'incidentWorkflow'"];
      const quote = (v: string) => `'${v.replace(/'/g, '')}'`;
      if (filter.service) clauses.push(`IncidentService = ${quote(filter.service)}`);
      if (filter.severity) clauses.push(`IncidentSeverity = ${quote(filter.severity)}`);
      if (filter.state) clauses.push(`IncidentState = ${quote(filter.state)}`);
      if (filter.open) clauses.push("ExecutionStatus = 'Running'");
      const query = clauses.join(' AND ');
      return call('incidents', async () => {
        const out: IncidentSummary[] = [];
        for await (const w of o.client.workflow.list({ query, pageSize: filter.limit })) {
          const service =
            w.typedSearchAttributes.get(incidentServiceKey) ?? w.workflowId.replace(/^incident-/, '');
          out.push({
            id: incidentId(service, w.runId),
            service,
            severity: w.typedSearchAttributes.get(incidentSeverityKey) ?? '',
            state:
              (w.typedSearchAttributes.get(incidentStateKey) as IncidentState | undefined) ?? 'verifying',
            openedAt: w.startTime.toISOString(),
            closedAt: w.closeTime?.toISOString(),
            running: w.status.name === 'RUNNING',
          });
          if (out.length >= filter.limit) break;
        }
        return out;
      });
    },

    acknowledge: (id: string, actor: string) =>
      update(id, (h) => h.executeUpdate(acknowledgeUpdate, { args: [{ actor }] })),
    resolve: (id: string, actor: string, note?: string) =>
      update(id, (h) => h.executeUpdate(resolveUpdate, { args: [{ actor, note }] })),
    note: (id: string, actor: string, text: string) =>
      update(id, (h) => h.executeUpdate(noteUpdate, { args: [{ actor, text }] })),
    publishStatus: (id: string, actor: string, state: StatusState, message?: string) =>
      update(id, (h) => h.executeUpdate(publishStatusUpdate, { args: [{ actor, state, message }] })),

    async ready(): Promise<boolean> {
      try {
        await o.connection.withDeadline(Date.now() + 2000, () => o.connection.healthService.check({}));
        return true;
      } catch {
        return false;
      }
    },
  };
}

export type IncidentService = ReturnType<typeof createIncidentService>;
