import { sha256 } from '../plugins/auth.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { minSecretLength, type Check, type Config } from '../../domain/config-schema.js';
import { monitorView } from '../../domain/monitor-view.js';
import { durationMs } from '../../domain/duration.js';
import { createMonitorStatus, type MonitorStatusRow } from '../../store/monitor-status.js';
import type { Records } from '../../store/records.js';
import {
  monitorStateQuery,
  monitorWorkflowId,
  pauseSignal,
  pingSignal,
  resumeSignal,
} from '../../workflows/monitor.js';
import type { IncidentService } from '../incident-service.js';
import { HttpError, notFound } from '../errors.js';
import { createWrongKeys, sendWrongKeysThrottled } from '../plugins/wrong-keys.js';

const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});

/**
 * Monitors (one per check): state, last result, last change, next probe; pause and resume; heartbeat
 * pings. Health, pause and incident come from the monitor workflow's query; the last result and the
 * next probe from the probe loop's live row in the record store (`monitor_status`), never from the
 * activity's heartbeat details (throttled, so stale). domain/monitor-view.ts decides what is shown.
 */
export interface MonitorReaderOptions {
  incidents: IncidentService;
  config: Config;
  /** The live rows; unset → the workflow's state only (last result as of the last state change). */
  records?: Pick<Records, 'db'>;
  log?: { warn(message: string): void };
}

/** What the API and the console's monitors page share: reading monitors, pausing and resuming them. */
export function createMonitorReader(o: MonitorReaderOptions) {
  const live = o.records ? createMonitorStatus(o.records.db) : undefined;
  /** A store that does not answer leaves the live row out (the workflow's state still shows). */
  const liveRow = async (id: string): Promise<MonitorStatusRow | undefined> => {
    try {
      return await live?.get(id);
    } catch (e) {
      o.log?.warn(`monitor ${id}: live state not read from the record store: ${(e as Error).message}`);
      return undefined;
    }
  };
  const { client } = o.incidents.temporal;
  const call = o.incidents.call;
  const checkById = (id: string): Check => {
    const c = o.config.checks.find((x) => x.id === id);
    if (!c) throw notFound(`monitor "${id}"`);
    return c;
  };

  const describeMonitor = async (check: Check) => {
    const handle = client.workflow.getHandle(monitorWorkflowId(check.id));
    const [[state, desc], row] = await Promise.all([
      call(`monitor "${check.id}"`, () => Promise.all([handle.query(monitorStateQuery), handle.describe()])),
      liveRow(check.id),
    ]);
    const probes = check.kind !== 'heartbeat';
    const shown = monitorView({
      nowMs: Date.now(),
      health: state.health,
      suppressed: state.suppressed,
      results: [state.lastResult, row?.lastResult],
      nextProbeAt: row?.nextProbeAt,
      probingSince: row?.probingSince,
      ...(probes
        ? {
            intervalMs: check.interval ? durationMs(check.interval) : 30_000,
            timeoutMs: check.timeout ? durationMs(check.timeout) : 10_000,
          }
        : {}),
    });
    return {
      id: check.id,
      service: check.service,
      kind: check.kind,
      name: check.name ?? check.id,
      state: shown.state,
      health: state.health,
      since: state.since,
      lastChange: state.lastChange ?? null,
      lastResult: shown.lastResult,
      lastPingAt: state.lastPingAt ?? null,
      nextProbeAt: shown.nextProbeAt,
      probing: shown.probing,
      stale: shown.stale,
      pausedUntil: state.pausedUntil ?? null,
      pauseReason: state.pauseReason ?? null,
      incident: state.incident?.id ?? null,
      events: state.events,
      running: desc.status.name === 'RUNNING',
    };
  };

  return {
    checkById,
    describe: describeMonitor,
    /** Every configured check; one whose monitor is not running says so. */
    async list() {
      return Promise.all(
        o.config.checks.map((c) =>
          describeMonitor(c).catch((e: unknown) => {
            if (e instanceof HttpError && e.statusCode === 404)
              return { id: c.id, service: c.service, kind: c.kind, state: 'not running' as const };
            throw e;
          }),
        ),
      );
    },
    async pause(check: Check, until: string, reason: string, actor: string) {
      if (Date.parse(until) <= Date.now())
        throw new HttpError(400, 'invalid_request', 'until: must be in the future', 'until');
      await call(`monitor "${check.id}"`, () =>
        client.workflow
          .getHandle(monitorWorkflowId(check.id))
          .signal(pauseSignal, { until: new Date(until).toISOString(), reason, actor }),
      );
    },
    async resume(check: Check, actor: string) {
      await call(`monitor "${check.id}"`, () =>
        client.workflow.getHandle(monitorWorkflowId(check.id)).signal(resumeSignal, { actor }),
      );
    },
  };
}

export type MonitorReader = ReturnType<typeof createMonitorReader>;

export const monitorRoutes: FastifyPluginAsyncTypebox<
  MonitorReaderOptions & { reader?: MonitorReader }
> = async (app, o) => {
  const reader = o.reader ?? createMonitorReader({ ...o, log: app.log });
  const { client } = o.incidents.temporal;
  const call = o.incidents.call;
  const { checkById } = reader;
  const describeMonitor = reader.describe;

  const Monitor = Type.Object({ id: Type.String(), state: Type.String() }, { additionalProperties: true });
  const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

  app.get(
    '/api/monitors',
    {
      preHandler: app.staff,
      schema: {
        tags: ['monitors'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ monitors: Type.Array(Monitor) }) },
      },
    },
    async () => ({ monitors: await reader.list() }),
  );

  app.get(
    '/api/monitors/:id',
    {
      preHandler: app.staff,
      schema: { tags: ['monitors'], security: [{ bearer: [] }], params: Params, response: { 200: Monitor } },
    },
    async (req) => describeMonitor(checkById(req.params.id)),
  );

  app.post(
    '/api/monitors/:id/pause',
    {
      preHandler: app.staff,
      config: { role: 'admin', action: 'Pausing a monitor (maintenance)' },
      schema: {
        tags: ['monitors'],
        summary: 'Pause a check until a time: failures are recorded but page nobody',
        security: [{ bearer: [] }],
        params: Params,
        body: Type.Object(
          {
            until: Type.String({ format: 'date-time' }),
            reason: Type.String({ minLength: 1, maxLength: 500, default: 'paused by staff' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Monitor },
      },
    },
    async (req) => {
      const check = checkById(req.params.id);
      await reader.pause(check, req.body.until, req.body.reason, req.actor!);
      return describeMonitor(check);
    },
  );

  app.post(
    '/api/monitors/:id/resume',
    {
      preHandler: app.staff,
      config: { role: 'admin', action: 'Resuming a monitor (maintenance)' },
      schema: { tags: ['monitors'], security: [{ bearer: [] }], params: Params, response: { 200: Monitor } },
    },
    async (req) => {
      const check = checkById(req.params.id);
      await reader.resume(check, req.actor!);
      return describeMonitor(check);
    },
  );

  // A heartbeat check's token is its credential: no bearer token, and only a hash is compared.
  const byTokenHash = new Map<string, Check>();
  for (const c of o.config.checks) {
    if (c.kind !== 'heartbeat') continue;
    if (c.tokenSha256) byTokenHash.set(c.tokenSha256, c);
    const fromEnv = c.tokenEnv ? process.env[c.tokenEnv] : undefined;
    // The config loader refuses a short token at start-up; one that got here anyway is not used.
    if (fromEnv && fromEnv.length < minSecretLength)
      app.log.warn(`check ${c.id}: ${c.tokenEnv} is shorter than ${minSecretLength} characters; not used`);
    else if (fromEnv) byTokenHash.set(sha256(fromEnv), c);
  }
  // Wrong tokens are throttled per address and globally (429), before the token is looked at.
  const wrongKeys = app.hasDecorator('wrongKeys') ? app.wrongKeys : createWrongKeys();
  const tooMany = (reply: FastifyReply, wait: number) =>
    sendWrongKeysThrottled(reply, wait, 'token', 'heartbeat tokens');
  app.post(
    '/api/heartbeats/:token',
    {
      onRequest: async (req, reply) => {
        const wait = wrongKeys.refused(req.ip);
        if (wait) return tooMany(reply, wait);
      },
      schema: {
        tags: ['monitors'],
        summary: "Ping a heartbeat check (dead man's switch) from a job",
        params: Type.Object({ token: Type.String({ minLength: 8, maxLength: 200 }) }),
        response: {
          202: Type.Object({ check: Type.String(), receivedAt: Type.String() }),
          429: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const check = byTokenHash.get(sha256(req.params.token));
      if (!check) {
        const wait = wrongKeys.wrong(req.ip);
        if (wait) return tooMany(reply, wait);
        throw notFound('heartbeat token');
      }
      const receivedAt = new Date().toISOString();
      await call(`monitor "${check.id}"`, () =>
        client.workflow.getHandle(monitorWorkflowId(check.id)).signal(pingSignal, { at: receivedAt }),
      );
      return reply.status(202).send({ check: check.id, receivedAt });
    },
  );
};
