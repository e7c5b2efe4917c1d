/**
 * The worker process: validates the configuration, connects to Temporal (waiting for it if it is not
 * up yet), hosts the workflows and activities, and shuts down cleanly on SIGINT/SIGTERM.
 */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { reconcileMonitors } from '../client/monitors.js';
import { loadConfigOrExit } from '../config/load.js';
import { watchConfig } from '../config/reload.js';
import { ensureSearchAttributes, runtimeSettings, temporalConnectConfig } from '../config/runtime.js';
import { createEmailNotifier, redactUrl } from '../activities/notifiers/email.js';
import { createAckLinks } from '../activities/ack-links.js';
import { createIncidentWorker } from './create.js';
import { withoutHarmlessWarnings } from './logger.js';
import { hostname } from 'node:os';
import { openRecordStore, redactDbUrl } from '../store/db.js';
import { createRecords } from '../store/records.js';
import { createMonitorStatus } from '../store/monitor-status.js';
import { createScheduleRecords } from '../store/schedules.js';
import { createHandoffNotices } from './handoff-notices.js';
import { createSubscriberNotices } from './subscriber-notices.js';
import { createMaintenanceNotices } from './maintenance-notices.js';
import { createSubscriberLinks } from '../activities/subscriber-links.js';
import { createSubscriberRecords } from '../store/subscribers.js';
import { freeLoopbackPort, startWorkerMetricsServer } from './metrics.js';
import { startTracing, type Tracing } from '../config/tracing.js';

const log = (msg: string) => console.log(`[worker] ${msg}`);

async function connectWithRetry(): Promise<NativeConnection> {
  const { connectionOptions } = temporalConnectConfig();
  for (let attempt = 1; ; attempt++) {
    try {
      return await NativeConnection.connect(connectionOptions);
    } catch (e) {
      if (attempt === 1 || attempt % 10 === 0)
        log(`waiting for Temporal at ${connectionOptions.address} (${(e as Error).message.split('\n')[0]})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function main() {
  const settings = runtimeSettings();
  const config = loadConfigOrExit(settings.configPath);
  let tracing: Tracing | undefined;
  try {
    tracing = startTracing({ serviceName: 'incident-orchestrator-worker' });
  } catch (e) {
    console.error(`[worker] ${(e as Error).message}`);
    process.exit(1);
  }
  if (tracing)
    log(
      `tracing: spans go to ${tracing.settings.exporter === 'console' ? 'the console' : (tracing.settings.endpoint ?? 'the OTLP endpoint the OTEL_EXPORTER_OTLP_* variables name')} as ${tracing.settings.serviceName}`,
    );
  const logger = withoutHarmlessWarnings(new DefaultLogger(settings.logLevel === 'debug' ? 'DEBUG' : 'WARN'));
  // The SDK's own metrics (task latencies, slots, polls), served by Core on a loopback port and read
  // into this worker's /metrics. Metrics never stop a worker: a port in use is logged, and it runs on.
  const temporalMetricsAddress =
    settings.workerMetricsAddress && settings.temporalMetricsAddress === 'auto'
      ? `127.0.0.1:${await freeLoopbackPort()}`
      : settings.workerMetricsAddress
        ? settings.temporalMetricsAddress
        : undefined;
  try {
    Runtime.install({
      logger,
      ...(temporalMetricsAddress
        ? {
            telemetryOptions: {
              metrics: {
                prometheus: {
                  bindAddress: temporalMetricsAddress,
                  countersTotalSuffix: true,
                  unitSuffix: true,
                  useSecondsForDurations: true,
                },
              },
            },
          }
        : {}),
    });
  } catch (e) {
    log(`Temporal SDK metrics are off: ${(e as Error).message}`);
    Runtime.install({ logger });
  }
  const metrics = settings.workerMetricsAddress
    ? await startWorkerMetricsServer({
        address: settings.workerMetricsAddress,
        temporalMetricsAddress,
      }).catch((e: unknown) => {
        log(`metrics are off: cannot listen on ${settings.workerMetricsAddress} (${(e as Error).message})`);
        return undefined;
      })
    : undefined;
  if (metrics) log(`metrics: http://${metrics.address}/metrics`);
  const { namespace } = temporalConnectConfig();
  const db = await openRecordStore(settings.databaseUrl, log);
  log(`record store: ${redactDbUrl(settings.databaseUrl!)}`);
  const records = createRecords(db);
  const connection = await connectWithRetry();
  const clientConnection = await Connection.connect(temporalConnectConfig().connectionOptions);
  await ensureSearchAttributes(clientConnection, namespace, log);
  const client = new Client({
    connection: clientConnection,
    namespace,
    ...(tracing ? { interceptors: { workflow: tracing.clientInterceptors } } : {}),
  });

  const email = createEmailNotifier({
    smtpUrl: settings.smtpUrl,
    outboxDir: settings.outboxDir,
    ledgerDir: settings.ledgerDir,
    from: settings.mailFrom,
    log: (m, fields) => log(fields ? `${m} ${JSON.stringify(fields)}` : m),
  });
  log(
    settings.smtpUrl
      ? `mail goes to ${redactUrl(settings.smtpUrl)}`
      : `no SMTP_URL: mail is written to ${settings.outboxDir}`,
  );

  const ackLinks = settings.ackLinkSecret
    ? createAckLinks({ secret: settings.ackLinkSecret, baseUrl: settings.publicBaseUrl })
    : undefined;
  log(
    ackLinks
      ? `page mails carry signed one-click acknowledge links to ${settings.publicBaseUrl}/ack/…`
      : 'ACK_LINK_SECRET is not set: page mails carry no one-click acknowledge link',
  );

  // New incidents take their snapshot from `incidents.config`: a reload replaces it (running ones keep theirs).
  const incidents = { client, config, taskQueue: settings.taskQueue, publicBaseUrl: settings.publicBaseUrl };
  const worker = await createIncidentWorker({
    connection,
    namespace,
    taskQueue: settings.taskQueue,
    tracing,
    ...(settings.cachedWorkflows ? { maxCachedWorkflows: settings.cachedWorkflows } : {}),
    deps: {
      email,
      env: process.env,
      incidents,
      ackLinks,
      records,
      workerName: `${hostname()}:${process.pid}`,
      log: (m, fields) => log(fields ? `${m} ${JSON.stringify(fields)}` : m),
    },
  });
  const stop = () => {
    log('shutting down (finishing running activities)…');
    worker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Shortly before a shift starts, its person is told by email (once across every worker).
  const notices = createHandoffNotices({
    config,
    schedules: createScheduleRecords(db),
    email,
    publicBaseUrl: settings.publicBaseUrl,
    workerName: `${hostname()}:${process.pid}`,
    log,
  });
  if (config.schedules.length > 0) notices.start();
  // Status page subscribers: each published status message and each resolution, by email (or
  // webhook), once across every worker; confirmation mails of new subscriptions. Needs ACK_LINK_SECRET
  // (the signed unsubscribe and confirm links).
  const subscriberNotices = settings.ackLinkSecret
    ? createSubscriberNotices({
        config: () => incidents.config,
        subscribers: createSubscriberRecords(db),
        records,
        email,
        links: createSubscriberLinks({ secret: settings.ackLinkSecret, baseUrl: settings.publicBaseUrl }),
        publicBaseUrl: settings.publicBaseUrl,
        workerName: `${hostname()}:${process.pid}`,
        log,
      })
    : undefined;
  // Maintenance windows: their subscribers are told at each start and end (same signed links).
  const maintenanceNotices = settings.ackLinkSecret
    ? createMaintenanceNotices({
        config: () => incidents.config,
        subscribers: createSubscriberRecords(db),
        records,
        email,
        links: createSubscriberLinks({ secret: settings.ackLinkSecret, baseUrl: settings.publicBaseUrl }),
        publicBaseUrl: settings.publicBaseUrl,
        workerName: `${hostname()}:${process.pid}`,
        log,
      })
    : undefined;
  maintenanceNotices?.start();
  if (subscriberNotices) subscriberNotices.start();
  else
    log(
      'ACK_LINK_SECRET is not set: status page subscribers are not notified (their mails need signed links)',
    );
  log(`polling task queue "${settings.taskQueue}" in namespace "${namespace}"`);
  // A SIGHUP before the watcher below is listening must not kill the worker (the default action):
  // it is kept and applied once the monitors have started.
  let hupPending = false;
  const earlyHup = () => {
    hupPending = true;
  };
  process.on('SIGHUP', earlyHup);
  const running = worker.run();
  const reconcileOptions = { shards: settings.probeShards, status: createMonitorStatus(db) };
  try {
    const r = await reconcileMonitors(client, config, settings.taskQueue, reconcileOptions);
    log(
      `monitors: ${r.configured.length} running${r.stopped.length ? `, stopped ${r.stopped.join(', ')} (removed from config)` : ''}`,
    );
  } catch (e) {
    log(`could not start the monitors: ${(e as Error).message}`);
  }
  // SIGHUP or a changed file: a valid file is applied (monitors reconcile, new incidents use it);
  // an invalid one is refused with its errors and the running configuration stays.
  const watch = watchConfig({
    file: settings.configPath,
    current: config,
    log,
    apply: async (next) => {
      incidents.config = next;
      const r = await reconcileMonitors(client, next, settings.taskQueue, reconcileOptions).catch(
        (e: unknown) => {
          log(`could not reconcile the monitors: ${(e as Error).message}`);
          return undefined;
        },
      );
      if (r)
        log(
          `monitors: ${r.configured.length} running${r.stopped.length ? `, stopped ${r.stopped.join(', ')} (removed from config)` : ''}`,
        );
    },
  });
  process.off('SIGHUP', earlyHup);
  if (hupPending) void watch.reload('SIGHUP');
  // Recurring maintenance windows reach the monitors as fixed periods up to 35 days ahead: once a
  // day the monitors are reconciled again, so the horizon moves along.
  const daily = setInterval(() => {
    if (!incidents.config.maintenance.some((m) => m.weekly || m.rrule)) return;
    void reconcileMonitors(client, incidents.config, settings.taskQueue, reconcileOptions).catch(
      (e: unknown) =>
        log(`could not lay out the maintenance windows for the monitors: ${(e as Error).message}`),
    );
  }, 86_400_000);
  daily.unref();
  await running;
  clearInterval(daily);
  watch.close();
  await maintenanceNotices?.stop();
  await notices.stop();
  await subscriberNotices?.stop();
  email.close();
  await clientConnection.close();
  await connection.close();
  await db.end();
  await metrics?.close();
  await tracing
    ?.shutdown()
    .catch((e: unknown) => log(`could not flush the last spans: ${(e as Error).message}`));
  log('stopped');
}

main().catch((e: unknown) => {
  console.error('[worker] fatal:', e instanceof Error ? e.message : e);
  process.exit(1);
});
