import { describe, expect, it } from 'vitest';
import { tracingSettings } from '../../domain/tracing.js';

const name = 'incident-orchestrator-api';

describe('tracingSettings (OTEL_* environment)', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }, false],
    [{ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
  ])('%o → enabled %s', (env, enabled) => {
    expect(tracingSettings(env, name).enabled).toBe(enabled);
  });

  it('names the service from OTEL_SERVICE_NAME, else the process default, and keeps the endpoint', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, name)).toEqual({
      enabled: true,
      serviceName: name,
      exporter: 'otlp',
      endpoint: 'http://c:4318',
    });
    expect(
      tracingSettings({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'io-api-eu' }, name),
    ).toMatchObject({ serviceName: 'io-api-eu', exporter: 'console' });
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: 'jaeger' }, /OTEL_TRACES_EXPORTER must be one of otlp, console or none/],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, /OTEL_TRACES_EXPORTER/],
    [{ OTEL_SDK_DISABLED: 'yes' }, /OTEL_SDK_DISABLED must be true or false/],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/,
    ],
    [
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' },
      /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http/,
    ],
  ])('%o is refused naming the variable', (env, message) => {
    expect(() => tracingSettings(env, name)).toThrow(message);
  });
});
