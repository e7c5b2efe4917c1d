/**
 * The process-level settings of worker and API, read once from the environment (see config/env.ts).
 * Secrets are read here and passed on; they are never logged.
 */
import path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Connection } from '@temporalio/client';
import { searchAttributeNames, taskQueueDefault } from '../workflows/definitions.js';
import { minSecretLength } from '../domain/config-schema.js';
import { defaultProbeShards } from '../domain/probe-shards.js';

export interface RuntimeSettings {
  /** WORKER_CACHED_WORKFLOWS: workflows the worker keeps in memory (unset: worker/create.ts' default). */
  cachedWorkflows?: number;
  /** PROBE_SHARDS: probe shards per task queue (domain/probe-shards.ts). */
  probeShards: number;
  configPath: string;
  dataDir: string;
  outboxDir: string;
  ledgerDir: string;
  smtpUrl?: string;
  mailFrom: string;
  taskQueue: string;
  publicBaseUrl: string;
  host: string;
  port: number;
  staffTokens: Map<string, string>;
  /** ACK_LINK_SECRET: signs the one-click acknowledge links (worker) and verifies them (API). */
  ackLinkSecret?: string;
  /** SESSION_SECRET: signs the staff console's session cookie; unset → random per process. */
  sessionSecret?: string;
  logLevel: string;
  /** DATABASE_URL: the record store (PostgreSQL). `npm start` sets it to its embedded PGlite. */
  databaseUrl?: string;
  /** WORKER_METRICS_ADDRESS: the worker's /metrics (host:port); empty → off. */
  workerMetricsAddress?: string;
  /**
   * TEMPORAL_METRICS_ADDRESS: where the Temporal SDK serves its runtime metrics for the worker's
   * /metrics; `auto` (unset) → a free loopback port; empty → off.
   */
  temporalMetricsAddress?: string;
}

export function runtimeSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RuntimeSettings {
  const dataDir = path.resolve(cwd, env.DATA_DIR || 'data');
  const port = Number(env.PORT || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT: "${env.PORT}" is not a port number`);
  return {
    configPath: path.resolve(cwd, env.INCIDENT_CONFIG || 'config/example.yaml'),
    dataDir,
    outboxDir: path.join(dataDir, 'outbox'),
    ledgerDir: path.join(dataDir, 'sent'),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM || 'Incident Orchestrator <incidents@localhost>',
    taskQueue: env.TEMPORAL_TASK_QUEUE || taskQueueDefault,
    publicBaseUrl: (env.PUBLIC_BASE_URL || `http://localhost:${port}`).replace(/\/$/, ''),
    host: env.HOST || '127.0.0.1',
    port,
    staffTokens: parseStaffTokens(env.STAFF_TOKENS),
    ackLinkSecret: secretSetting('ACK_LINK_SECRET', env.ACK_LINK_SECRET),
    sessionSecret: secretSetting('SESSION_SECRET', env.SESSION_SECRET),
    logLevel: env.LOG_LEVEL || 'info',
    databaseUrl: env.DATABASE_URL || undefined,
    workerMetricsAddress:
      env.WORKER_METRICS_ADDRESS === undefined ? '127.0.0.1:9464' : env.WORKER_METRICS_ADDRESS || undefined,
    temporalMetricsAddress:
      env.TEMPORAL_METRICS_ADDRESS === undefined ? 'auto' : env.TEMPORAL_METRICS_ADDRESS || undefined,
    probeShards: probeShardsSetting(env.PROBE_SHARDS),
    cachedWorkflows: wholeSetting('WORKER_CACHED_WORKFLOWS', env.WORKER_CACHED_WORKFLOWS, 1, 100_000),
  };
}

/** A whole number from the environment within bounds; unset → undefined; anything else names the variable. */
function wholeSetting(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name}: "${value}" is not a whole number from ${min} to ${max}`);
  return n;
}

/** PROBE_SHARDS: how many probe shards hold the checks (default 16; every worker must agree). */
function probeShardsSetting(value: string | undefined): number {
  if (!value) return defaultProbeShards;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new Error(`PROBE_SHARDS: "${value}" is not a whole number from 1 to 1024`);
  return n;
}

/** A signing key from the environment: unset → undefined; too short to be safe → a start-up error. */
function secretSetting(name: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length < 16) throw new Error(`${name}: must be at least 16 characters`);
  return value;
}

/** `kari=tok1,ola=tok2` → token → contact id; a token shorter than 24 characters is a start-up error. */
export function parseStaffTokens(raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1)
      throw new Error('STAFF_TOKENS: expected contactId=token pairs separated by commas');
    const contact = pair.slice(0, eq);
    const token = pair.slice(eq + 1);
    if (token.length < minSecretLength)
      throw new Error(
        `STAFF_TOKENS: the token of "${contact}" is shorter than ${minSecretLength} characters (use e.g. openssl rand -base64 32)`,
      );
    out.set(token, contact);
  }
  return out;
}

/** Temporal connection settings by Temporal's own conventions (TEMPORAL_ADDRESS, profiles, TLS, API key). */
export function temporalConnectConfig(env: NodeJS.ProcessEnv = process.env) {
  const cfg = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  const address = cfg.connectionOptions.address ?? 'localhost:7233';
  return {
    connectionOptions: { ...cfg.connectionOptions, address },
    namespace: cfg.namespace ?? 'default',
  };
}

/**
 * Registers the incidents' search attributes (service, severity, state) if they are missing. The dev
 * server started by `npm start` registers them itself; this covers a fresh self-hosted cluster.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  log: (m: string) => void,
) {
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = searchAttributeNames.filter((n) => !(n in (existing.customAttributes ?? {})));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((n) => [n, 2 /* INDEXED_VALUE_TYPE_KEYWORD */])),
    });
    log(`registered search attributes ${missing.join(', ')}`);
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === 6 /* gRPC ALREADY_EXISTS */) return;
    log(
      `could not register search attributes (${(e as Error).message}); register IncidentService, IncidentSeverity, IncidentState (Keyword) by hand`,
    );
  }
}
