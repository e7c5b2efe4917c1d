/**
 * OpenTelemetry tracing for the API and the worker, off by default (domain/tracing.ts decides from the
 * standard `OTEL_*` variables). When on, one tracer provider per process exports spans through OTLP
 * http/json (the exporter reads `OTEL_EXPORTER_OTLP_*` itself: endpoint, headers, timeout) or to the
 * console, and the pieces that carry a trace across processes are handed out:
 * - `clientInterceptors` for every Temporal client (start, update, signal, query spans; the context
 *   travels in the Temporal headers);
 * - `workerPlugin` for the worker (`@temporalio/interceptors-opentelemetry`'s plugin: workflow spans,
 *   exported through a sink since workflow code cannot do I/O, and activity spans);
 * - `fastifyPlugin()` for the API (`@fastify/otel`: a span per request and its handler, joined to an
 *   incoming `traceparent`).
 * So one trace runs from `POST /api/incidents` through the workflow to the page activity.
 */
import { trace } from '@opentelemetry/api';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  OpenTelemetryPlugin,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import FastifyOtel from '@fastify/otel';
import type { FastifyPluginCallback } from 'fastify';
import { tracingSettings, TracingConfigError, type TracingSettings } from '../domain/tracing.js';

export { TracingConfigError };

export interface Tracing {
  settings: Extract<TracingSettings, { enabled: true }>;
  provider: NodeTracerProvider;
  clientInterceptors: WorkflowClientInterceptor[];
  workerPlugin: OpenTelemetryPlugin;
  /** Register first on a Fastify app (before its routes). */
  fastifyPlugin(): FastifyPluginCallback;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** `service.name` unless OTEL_SERVICE_NAME says otherwise. */
  serviceName: string;
  /** Where spans go instead of the exporter the environment names (tests: an in-memory exporter). */
  spanProcessor?: SpanProcessor;
}

/**
 * The process's tracing, or undefined when it is off. Throws TracingConfigError, naming the variable,
 * for a setting it cannot honour.
 */
export function startTracing(o: StartTracingOptions): Tracing | undefined {
  const settings = o.spanProcessor
    ? ({ enabled: true, serviceName: o.serviceName, exporter: 'otlp' } as const)
    : tracingSettings(o.env ?? process.env, o.serviceName);
  if (!settings.enabled) return undefined;
  const resource = new Resource({ 'service.name': settings.serviceName });
  const spanProcessor =
    o.spanProcessor ??
    new BatchSpanProcessor(
      settings.exporter === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter(),
    );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The global provider, AsyncLocalStorage context and W3C trace-context propagation.
  provider.register();
  const tracer = trace.getTracer('incident-orchestrator');
  const fastify = new FastifyOtel.FastifyOtelInstrumentation({ registerOnInitialization: false });
  fastify.setTracerProvider(provider);
  return {
    settings,
    provider,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor({ tracer })],
    workerPlugin: new OpenTelemetryPlugin({ resource, spanProcessor, tracer }),
    fastifyPlugin: () => fastify.plugin() as FastifyPluginCallback,
    shutdown: () => provider.shutdown(),
  };
}
