/**
 * Whether and how a process traces, decided from the standard OpenTelemetry environment variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/). Pure, so the
 * rules have a table test; config/tracing.ts builds the tracer from the answer.
 *
 * Off by default: tracing starts only when asked for, by `OTEL_TRACES_EXPORTER=otlp|console` or by
 * naming an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off whatever else is set. The OTLP
 * exporter sends http/json; another protocol is refused by name rather than silently not exporting.
 */
export type TracingSettings =
  | { enabled: false; why: string }
  | { enabled: true; serviceName: string; exporter: 'otlp' | 'console'; endpoint?: string };

type Env = Readonly<Record<string, string | undefined>>;

export class TracingConfigError extends Error {}

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

export function tracingSettings(env: Env, defaultServiceName: string): TracingSettings {
  if (set(env.OTEL_SDK_DISABLED)) {
    const v = env.OTEL_SDK_DISABLED.trim().toLowerCase();
    if (v === 'true') return { enabled: false, why: 'OTEL_SDK_DISABLED=true' };
    if (v !== 'false')
      throw new TracingConfigError(`OTEL_SDK_DISABLED must be true or false, not ${JSON.stringify(v)}`);
  }
  const endpoint = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    ? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.trim()
    : set(env.OTEL_EXPORTER_OTLP_ENDPOINT)
      ? env.OTEL_EXPORTER_OTLP_ENDPOINT.trim()
      : undefined;
  let exporter: 'otlp' | 'console';
  if (set(env.OTEL_TRACES_EXPORTER)) {
    const names = env.OTEL_TRACES_EXPORTER.split(',').map((s) => s.trim().toLowerCase());
    if (names.includes('none')) return { enabled: false, why: 'OTEL_TRACES_EXPORTER=none' };
    const unknown = names.filter((n) => n !== 'otlp' && n !== 'console');
    if (unknown.length || names.length !== 1)
      throw new TracingConfigError(
        `OTEL_TRACES_EXPORTER must be one of otlp, console or none, not ${JSON.stringify(env.OTEL_TRACES_EXPORTER)}`,
      );
    exporter = names[0] as 'otlp' | 'console';
  } else if (endpoint) {
    exporter = 'otlp';
  } else {
    return {
      enabled: false,
      why: 'off by default: set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER=otlp|console) to trace',
    };
  }
  if (exporter === 'otlp') {
    for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const) {
      const p = env[name];
      if (set(p) && p.trim() !== 'http/json')
        throw new TracingConfigError(
          `${name}=${p.trim()} is not supported: traces are exported as OTLP http/json (unset it or set http/json)`,
        );
    }
    if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint))
      throw new TracingConfigError(
        `${set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} must be an http(s) URL, not ${JSON.stringify(endpoint)}`,
      );
  }
  const serviceName = set(env.OTEL_SERVICE_NAME) ? env.OTEL_SERVICE_NAME.trim() : defaultServiceName;
  return { enabled: true, serviceName, exporter, ...(endpoint ? { endpoint } : {}) };
}
