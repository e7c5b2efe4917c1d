/**
 * The API's view of incidents: every Temporal call the routes make goes through here, with a deadline
 * so an unreachable server becomes a 503 instead of a hung request.
 */
import { randomUUID } from 'node:crypto';
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { Config, Severity } from '../domain/config-schema.js';
import type { DetectionSource, IncidentView, StatusState, UpdateResult } from '../domain/incident.js';
import type { IncidentFilter, Records } from '../store/records.js';
import { contactById, serviceById } from '../domain/model.js';
import { addResponder } from '../domain/responders.js';
import { severityRule } from '../domain/severity.js';
import { defaultReopenWindowMs, reopenDecision } from '../domain/reopen.js';
import { mergeDecision } from '../domain/merge.js';
import { durationMs } from '../domain/duration.js';
import { reportIncident, retryAborted } from '../client/incidents.js';
import {
  acknowledgeUpdate,
  noteUpdate,
  parseIncidentId,
  publishStatusUpdate,
  resolveUpdate,
  forceResolveUpdate,
  absorbUpdate,
  mergeIntoUpdate,
  deliveryReceiptSignal,
  type DeliveryReceipt,
  changeSeverityUpdate,
  addResponderUpdate,
  snoozeUpdate,
  maxNoteLength,
  viewQuery,
  type ReportResult,
} from '../workflows/definitions.js';
import type { incidentWorkflow } from '../workflows/incident.js';
import { fromTemporal, HttpError, notFound, retryWhileClosing } from './errors.js';

export type { IncidentSummary } from '../store/records.js';

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
  /** A customer report's pseudonymous reporter (see Detection.reporter). */
  reporter?: string;
  /** The caller only needs the id (the public report form): no read of the view afterwards. */
  withoutView?: boolean;
}

export interface IncidentServiceOptions {
  client: Client;
  /** The client's connection, for the readiness check. */
  connection: Connection;
  config: Config;
  /** Where every read comes from, so reads answer while Temporal stalls and after its retention. */
  records: Records;
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

  const fromStore = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw new HttpError(
        503,
        'store_unavailable',
        `the record store did not answer: ${(e as Error).message}`,
      );
    }
  };

  const handleFor = (id: string): WorkflowHandle<typeof incidentWorkflow> => {
    const parsed = parseIncidentId(id);
    if (!parsed) throw notFound(`incident "${id}"`);
    return o.client.workflow.getHandle(parsed.workflowId, parsed.runId);
  };

  /** The latest run of the incident's workflow (a long incident continues-as-new under new run ids). */
  const latestHandle = (id: string): WorkflowHandle<typeof incidentWorkflow> => {
    const parsed = parseIncidentId(id);
    if (!parsed) throw notFound(`incident "${id}"`);
    return o.client.workflow.getHandle(parsed.workflowId);
  };

  /** Read-your-writes: waits (briefly) until the store holds the event an update recorded. */
  const waitForSeq = async (id: string, seq: number | undefined) => {
    if (!seq) return;
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      const r = await o.records.db
        .query('SELECT 1 FROM timeline_events WHERE incident_id = $1 AND seq = $2', [id, seq])
        .catch(() => null);
      // The store is down: the update is done (Temporal has it); the record follows when it is back.
      if (r === null) return;
      if (r.rowCount) return;
      await new Promise((res) => setTimeout(res, 25));
    }
  };

  /** An update on a finished incident is "not found" to Temporal; to the caller it is a closed incident. */
  const update = async (
    id: string,
    run: (h: WorkflowHandle<typeof incidentWorkflow>) => Promise<UpdateResult | IncidentView>,
  ): Promise<UpdateResult> => {
    const parsed = parseIncidentId(id);
    if (!parsed?.runId) throw notFound(`incident "${id}"`);
    const stored = await o.records.getIncidentRow(id).catch(() => undefined);
    if (stored?.closedAt)
      throw new HttpError(409, 'incident_closed', `incident ${id} is already ${stored.state}`);
    const h = stored ? latestHandle(id) : handleFor(id);
    let r: UpdateResult | IncidentView;
    try {
      r = await call(`incident "${id}"`, () =>
        perIncident.run(h.workflowId, () => retryAborted(() => run(h))),
      );
    } catch (e) {
      if (e instanceof HttpError && e.statusCode === 404) {
        const row = await o.records.getIncidentRow(id).catch(() => undefined);
        if (row)
          throw new HttpError(
            409,
            'incident_closed',
            `incident ${id} is already ${row.state === 'resolved' || row.state === 'dismissed' ? row.state : 'closed'}`,
          );
      }
      throw e;
    }
    const small: UpdateResult = { id: r.id, state: r.state, seq: 'seq' in r ? r.seq : 0 };
    await waitForSeq(id, small.seq);
    return small;
  };

  return {
    /** For routes that talk to other workflows (monitors, inbound events): the same client and deadline. */
    temporal: { client: o.client, config: o.config, taskQueue: o.taskQueue, publicBaseUrl: o.publicBaseUrl },
    call,

    async declare(req: DeclareRequest): Promise<ReportResult & { view?: IncidentView }> {
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
        ...(req.reporter ? { reporter: req.reporter } : {}),
      };
      const result = await call(`service "${service.id}"`, () =>
        reportIncident(
          { client: o.client, config: o.config, taskQueue: o.taskQueue, publicBaseUrl: o.publicBaseUrl },
          service.id,
          detection,
        ),
      );
      await waitForSeq(result.id, result.seq ?? (result.opened ? 1 : 0));
      if (req.withoutView) return result;
      const view = await this.get(result.id);
      return { ...result, view };
    },

    /**
     * Reopens a closed incident (the latest of its service, within `incidents.reopenWindow`): a new
     * incident opens at once at its severity, saying which one it reopens. Retried with the same
     * incident, it answers the same new incident.
     */
    async reopen(id: string, actor: string, reason: string) {
      const parsed = parseIncidentId(id);
      if (!parsed?.runId) throw notFound(`incident "${id}"`);
      const old = await fromStore(() => o.records.getIncident(id));
      if (!old) throw notFound(`incident "${id}"`);
      const latest = await fromStore(() => o.records.latestIncidentId(old.service.id));
      const newerView =
        latest && latest !== old.id ? await fromStore(() => o.records.getIncident(latest)) : undefined;
      const d = reopenDecision({
        id: old.id,
        state: old.state,
        closedAt: old.closedAt,
        now: Date.now(),
        windowMs: o.config.incidents.reopenWindow
          ? durationMs(o.config.incidents.reopenWindow)
          : defaultReopenWindowMs,
        ...(newerView ? { newer: { id: newerView.id, state: newerView.state } } : {}),
      });
      if (!d.ok) throw new HttpError(409, 'cannot_reopen', d.message);
      // A just-resolved incident may still be sending its resolved notices: its run refuses reports
      // for a moment. Try again briefly, then 503 so the caller retries.
      const r = await retryWhileClosing(
        () =>
          this.declare({
            service: old.service.id,
            reason: `reopened ${old.id}${reason.trim() ? `: ${reason.trim()}` : ''}`,
            actor,
            severity: old.severity,
            skipVerify: true,
            eventId: `reopen:${old.id}`,
          }),
        [250, 500, 1000, 1000, 1000, 1000, 2000, 2000],
        () => new HttpError(503, 'incident_closing', `incident ${old.id} is still closing; retry shortly`),
      );
      return { reopened: old.id, opened: r.opened, incident: r.view! };
    },

    /**
     * The incident from the record store. One that opened a moment ago may not be written yet: then
     * the workflow's own (small) view answers.
     */
    async get(id: string): Promise<IncidentView> {
      const parsed = parseIncidentId(id);
      if (!parsed) throw notFound(`incident "${id}"`);
      // A bare service id means its latest incident.
      const full = parsed.runId ? id : await fromStore(() => o.records.latestIncidentId(id));
      const stored = full ? await fromStore(() => o.records.getIncident(full)) : undefined;
      if (stored) return stored;
      const h = handleFor(full ?? id);
      return call(`incident "${id}"`, () => h.query(viewQuery));
    },

    async list(filter: Omit<IncidentFilter, 'limit'> & { limit: number }) {
      return fromStore(() => o.records.listIncidents(filter));
    },

    /**
     * `updateId` makes it one-time: Temporal runs one update per id on a workflow run, and a second
     * call with the same id (also while the first is in flight) gets the first one's answer.
     */
    acknowledge: (id: string, actor: string, opts: { updateId?: string } = {}) =>
      update(id, (h) =>
        h.executeUpdate(acknowledgeUpdate, {
          args: [{ actor, incidentId: id }],
          ...(opts.updateId ? { updateId: opts.updateId } : {}),
        }),
      ),
    resolve: (id: string, actor: string, note?: string) =>
      update(id, (h) => h.executeUpdate(resolveUpdate, { args: [{ actor, note, incidentId: id }] })),
    /** Closes it now without probe proof (admin); the timeline says so, with the reason. */
    forceResolve: (id: string, actor: string, reason: string) =>
      update(id, (h) => h.executeUpdate(forceResolveUpdate, { args: [{ actor, reason, incidentId: id }] })),
    /** Raises or lowers it (responder or higher): auto-publish and the comms deadline follow the new rule. */
    changeSeverity: (id: string, actor: string, severity: Severity, reason?: string) =>
      update(id, (h) =>
        h.executeUpdate(changeSeverityUpdate, {
          args: [
            {
              actor,
              severity,
              ...(reason?.trim() ? { reason: reason.trim() } : {}),
              rule: severityRule(o.config, severity),
              incidentId: id,
            },
          ],
        }),
      ),
    /**
     * Adds a contact from config as a responder (responder or higher): paged at once, and one of the
     * incident's recipients from then on. An unknown contact is 400 here; one already paged is 409.
     */
    addResponder: (id: string, actor: string, contactId: string, note?: string) => {
      const contact = contactById(o.config, contactId);
      const d = addResponder({ actor, contactId, contact, paged: [], note, maxNoteLength });
      if (d.outcome === 'invalid')
        return Promise.reject(new HttpError(400, 'invalid_request', d.message, d.message.split(':')[0]));
      return update(id, (h) =>
        h.executeUpdate(addResponderUpdate, {
          args: [
            {
              actor,
              contactId,
              contact,
              ...(note?.trim() ? { note: note.trim() } : {}),
              incidentId: id,
            },
          ],
        }),
      );
    },
    /** Snoozes an acknowledged incident until a time or for a duration (at most 24 h); then it pages again. */
    snooze: (id: string, actor: string, until: string) =>
      update(id, (h) => h.executeUpdate(snoozeUpdate, { args: [{ actor, until, incidentId: id }] })),
    /**
     * Merges incident `id` into incident `into` (responder or higher): the target takes it in first
     * (recorded, its services and people carried over, a higher severity raising the target's), then
     * it closes as merged, with no postmortem of its own.
     */
    async merge(id: string, actor: string, into: string, reason?: string) {
      const parsed = parseIncidentId(id);
      if (!parsed?.runId) throw notFound(`incident "${id}"`);
      const source = await fromStore(() => o.records.getIncident(id));
      if (!source) throw notFound(`incident "${id}"`);
      const targetId = typeof into === 'string' ? into.trim() : into;
      const target = parseIncidentId(targetId)?.runId
        ? await fromStore(() => o.records.getIncident(targetId))
        : undefined;
      const d = mergeDecision({
        source: { id: source.id, state: source.state, serviceId: source.service.id },
        target: target && { id: target.id, state: target.state, serviceId: target.service.id },
        into: targetId,
        reason,
        maxReasonLength: maxNoteLength,
      });
      if (!d.ok)
        throw new HttpError(
          d.status,
          d.code,
          d.message,
          d.status === 400 ? d.message.split(':')[0] : undefined,
        );
      const recipients = [...new Map(source.paged.map((p) => [p.recipient.id, p.recipient])).values()];
      const why = reason?.trim() ? { reason: reason.trim() } : {};
      await update(target!.id, (h) =>
        h.executeUpdate(absorbUpdate, {
          args: [
            {
              actor,
              incidentId: target!.id,
              from: {
                id: source.id,
                serviceId: source.service.id,
                serviceName: source.service.name,
                severity: source.severity,
                openedAt: source.openedAt,
                reason: source.reason,
                affected: source.affected,
                recipients,
              },
              rule: severityRule(o.config, source.severity),
              ...why,
            },
          ],
          // Retried, the target takes it in once.
          updateId: `absorb:${source.id}`,
        }),
      );
      const r = await update(id, (h) =>
        h.executeUpdate(mergeIntoUpdate, {
          args: [{ actor, into: target!.id, incidentId: id, ...why }],
          updateId: `merge-into:${target!.id}`,
        }),
      );
      return { merged: source.id, into: target!.id, state: r.state };
    },
    /**
     * Records what a channel's service reported about a page (the signed receipt URL's claims and
     * its reading). False when the incident's run is gone (closed): there is nothing to record into.
     */
    async deliveryReceipt(id: string, receipt: DeliveryReceipt): Promise<boolean> {
      const h = latestHandle(id);
      try {
        await call(`incident "${id}"`, () => h.signal(deliveryReceiptSignal, { ...receipt, incidentId: id }));
        return true;
      } catch (e) {
        if (e instanceof HttpError && e.statusCode === 404) return false;
        throw e;
      }
    },
    note: (id: string, actor: string, text: string) =>
      update(id, (h) => h.executeUpdate(noteUpdate, { args: [{ actor, text, incidentId: id }] })),
    publishStatus: (id: string, actor: string, state: StatusState, message?: string) =>
      update(id, (h) =>
        h.executeUpdate(publishStatusUpdate, { args: [{ actor, state, message, incidentId: id }] }),
      ),

    async ready(): Promise<boolean> {
      try {
        await o.connection.withDeadline(Date.now() + 2000, () => o.connection.healthService.check({}));
        return true;
      } catch {
        return false;
      }
    },

    /** Waits (at most 3 s) until the store holds event `seq` of incident `id`. */
    settle: (id: string, seq: number | undefined) => waitForSeq(id, seq),

    /** Whether the record store answers (for /readyz). */
    storeReady: () => o.records.ping(),
  };
}

export type IncidentService = ReturnType<typeof createIncidentService>;
