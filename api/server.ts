/**
 * The API process: validates the configuration, holds one lazily-connected Temporal client (so the
 * API starts and answers 503 while Temporal is down, and recovers when it returns), listens, and
 * closes cleanly on SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config/load.js';
import { watchConfig } from '../config/reload.js';
import type { Config } from '../domain/config-schema.js';
import { createAppHolder } from './app-holder.js';
import { runtimeSettings, temporalConnectConfig } from '../config/runtime.js';
import { buildApp } from './app.js';
import { loggerOptions } from './log-redaction.js';
import { createIncidentService } from './incident-service.js';
import { createPostmortemService } from './postmortem-service.js';
import { createAckLinks } from '../activities/ack-links.js';
import { openRecordStore } from '../store/db.js';
import { createRecords } from '../store/records.js';
import { createApiMetrics } from './metrics.js';
import { oidcSettings, type OidcSettings } from './oidc.js';
import { startTracing, type Tracing } from '../config/tracing.js';

async function main() {
  const settings = runtimeSettings();
  const config = loadConfigOrExit(settings.configPath);
  let oidc: OidcSettings | undefined;
  let tracing: Tracing | undefined;
  try {
    oidc = oidcSettings(process.env, settings.publicBaseUrl);
    tracing = startTracing({ serviceName: 'incident-orchestrator-api' });
  } catch (e) {
    console.error(`[api] ${(e as Error).message}`);
    process.exit(1);
  }
  const { connectionOptions, namespace } = temporalConnectConfig();
  const connection = Connection.lazy(connectionOptions);
  const client = new Client({
    connection,
    namespace,
    ...(tracing ? { interceptors: { workflow: tracing.clientInterceptors } } : {}),
  });
  const db = await openRecordStore(settings.databaseUrl, (l) => console.log(`[api] ${l}`));
  const records = createRecords(db);
  // One metrics registry and one session key for the process: a config reload builds a new app
  // (api/app-holder.ts) but keeps them, so figures carry on and console sessions stay signed in.
  const metrics = createApiMetrics({ records });
  const sessionSecret = settings.sessionSecret ?? randomBytes(32).toString('base64url');
  const build = (config: Config) => {
    const incidents = createIncidentService({
      client,
      connection,
      config,
      records,
      taskQueue: settings.taskQueue,
      publicBaseUrl: settings.publicBaseUrl,
    });
    return buildApp({
      config,
      incidents,
      postmortems: createPostmortemService({ client, config, taskQueue: settings.taskQueue, records }),
      records,
      staffTokens: settings.staffTokens,
      ackLinks: settings.ackLinkSecret
        ? createAckLinks({ secret: settings.ackLinkSecret, baseUrl: settings.publicBaseUrl })
        : undefined,
      sessionSecret,
      metrics,
      // Personal on-call calendar links are signed with the same secret (their own purpose prefix).
      calendarSecret: settings.ackLinkSecret,
      publicBaseUrl: settings.publicBaseUrl,
      ...(oidc ? { oidc } : {}),
      ...(tracing ? { tracing } : {}),
      // Never log credentials (headers, or tokens in URL paths).
      logger: loggerOptions(settings.logLevel),
    });
  };
  const holder = await createAppHolder({ config, build });
  const app = holder.current();
  if (settings.staffTokens.size === 0 && !config.contacts.some((c) => c.tokenSha256))
    app.log.warn(
      'no staff tokens configured (STAFF_TOKENS or contacts[].tokenSha256): staff endpoints will answer 401',
    );
  if (!settings.ackLinkSecret)
    app.log.warn('ACK_LINK_SECRET is not set: one-click acknowledge links from page mails will not work');
  if (tracing)
    app.log.info(
      `tracing: spans go to ${tracing.settings.exporter === 'console' ? 'the console' : (tracing.settings.endpoint ?? 'the OTLP endpoint the OTEL_EXPORTER_OTLP_* variables name')} as ${tracing.settings.serviceName}`,
    );
  if (oidc) app.log.info(`console sign-in with OpenID Connect: ${oidc.issuer} (client ${oidc.clientId})`);
  if (!settings.sessionSecret)
    app.log.info(
      'SESSION_SECRET is not set: console sessions use a random key and end when the API restarts',
    );
  // SIGHUP or a changed file: a valid file builds a new app that answers from then on (new incidents,
  // the status page, schedules, routes use it); an invalid one is refused with its errors and the
  // running configuration stays.
  const watch = watchConfig({
    file: settings.configPath,
    current: config,
    log: (m) => holder.current().log.info(m),
    apply: (next) => holder.apply(next),
  });
  const close = async () => {
    app.log.info('shutting down');
    watch.close();
    await holder.close();
    await connection.close();
    await db.end();
    await tracing?.shutdown().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void close());
  process.once('SIGTERM', () => void close());
  await new Promise<void>((resolve, reject) => {
    holder.server.once('error', reject);
    holder.server.listen(settings.port, settings.host, () => resolve());
  });
  const addr = holder.server.address();
  app.log.info(
    `Server listening at http://${typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : settings.host}`,
  );
}

main().catch((e: unknown) => {
  console.error('[api] fatal:', e instanceof Error ? e.message : e);
  process.exit(1);
});
