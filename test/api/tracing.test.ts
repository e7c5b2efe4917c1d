/**
 * OpenTelemetry: one trace from `POST /api/incidents` to the page activity. The API (with
 * @fastify/otel), the Temporal client, the worker and its workflows (through
 * @temporalio/interceptors-opentelemetry) are wired by config/tracing.ts as the processes wire them,
 * here with an in-memory exporter: a real dev server, worker, record store and SMTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../../config/tracing.js';
import { testConfig } from '../helpers/config.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { eventually } from '../helpers/harness.js';

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let smtp: TestSmtpServer;
  let stack: Stack;
  const { config, serviceId } = testConfig({ levelTimeout: '1m', verifyAttempts: 1 });

  beforeAll(async () => {
    tracing = startTracing({
      serviceName: 'incident-orchestrator-test',
      spanProcessor: new SimpleSpanProcessor(exporter),
    })!;
    smtp = await startSmtpServer();
    stack = await startStack({ config, worker: true, smtpUrl: smtp.url, tracing });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await smtp?.close();
    await tracing?.shutdown();
  });

  it('follows POST /api/incidents through the workflow to the page activity in one trace', async () => {
    const r = await stack.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: {
        ...stack.auth('per'),
        // A caller's own trace: the request joins it.
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      payload: { service: serviceId, reason: 'exports to Canvas stopped' },
    });
    expect(r.statusCode, r.body).toBeLessThan(300);
    await smtp.waitFor((m) => m.to.includes('kari@test.local') && m.subject.includes('level 1 page'), 60_000);

    const byId = new Map<string, ReadableSpan>();
    let page: ReadableSpan | undefined;
    await eventually(async () => {
      for (const s of exporter.getFinishedSpans()) byId.set(s.spanContext().spanId, s);
      page = [...byId.values()].find((s) => /^RunActivity:(deliver|sendEmail)$/.test(s.name));
      expect(page, `spans: ${[...new Set([...byId.values()].map((s) => s.name))].join(', ')}`).toBeDefined();
      // The workflow's schedule span reaches the exporter after the activity's own (through a sink).
      expect(byId.get(page!.parentSpanId ?? ''), `the parent of ${page!.name}`).toBeDefined();
      return true;
    }, 30_000);
    const trace = '0af7651916cd43dd8448eb211c80319c';
    const spans = [...byId.values()];
    const named = (re: RegExp) => spans.filter((s) => re.test(s.name)) as [ReadableSpan, ...ReadableSpan[]];
    const parentOf = (s: ReadableSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const ancestors = (s: ReadableSpan) => {
      const out: string[] = [];
      for (let p = parentOf(s); p; p = parentOf(p)) out.push(p.name);
      return out;
    };
    // Every span, from the API's request to the page activity, is in the caller's trace.
    expect(spans.filter((s) => s.spanContext().traceId !== trace).map((s) => s.name)).toEqual([]);
    const [request] = named(/^request$/);
    expect(request.parentSpanId).toBe('b7ad6b7169203331');
    // API side: request → handler → the Temporal client's update-with-start.
    const [start] = named(/^UpdateWithStartWorkflow:report$/);
    expect(ancestors(start)).toEqual(['handler - incidentRoutes', 'request']);
    // Workflow side: the update is handled under that client span (context through Temporal headers).
    expect(ancestors(named(/^HandleUpdate:report$/)[0])).toEqual([
      'UpdateWithStartWorkflow:report',
      'handler - incidentRoutes',
      'request',
    ]);
    // The page: the activity ran under the workflow's schedule span. (The workflow's own run span ends
    // when the incident's run does, so the exporter has not seen it yet.)
    expect(parentOf(page!)?.name).toBe(`StartActivity:${page!.name.split(':')[1]}`);
    console.log(
      `trace ${trace}: ${spans.length} spans; ${page!.name} ← ${ancestors(page!).join(' ← ')} ← (workflow run)`,
    );
  }, 120_000);
});
