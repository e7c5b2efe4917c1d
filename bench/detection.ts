/**
 * 6. Detection latency: a monitor probes a local SSH server (ssh2, the test helper) every 1 s; the
 * server is stopped; we time fault → incident opened (`view.openedAt`, the workflow's own clock) and
 * fault → first level-1 mail received by a local SMTP server (the test helper's `receivedAt`). Then the
 * server comes back, the monitor proves recovery, the incident resolves, and the next repetition
 * starts. Compared with the floor `interval × failThreshold` and with `detectionFloorMs`, the floor
 * with the immediate re-probe after the first failure: `(failThreshold − 2) × interval`.
 */
import { randomUUID } from 'node:crypto';
import { messageIdFor } from '../activities/notifiers/email.js';
import { reconcileMonitors } from '../client/monitors.js';
import type { IncidentView } from '../domain/incident.js';
import { defaultThresholds, detectionFloorMs } from '../domain/thresholds.js';
import { incidentWorkflowId, viewQuery } from '../workflows/definitions.js';
import { monitorStateQuery, monitorWorkflowId } from '../workflows/monitor.js';
import { startSmtpServer } from '../test/helpers/smtp-server.js';
import { startSshServer } from '../test/helpers/ssh-server.js';
import {
  connectClient,
  genConfig,
  roundSummary,
  row,
  sleep,
  startWorker,
  summarize,
  until,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

export async function detectionBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const reps = o.quick ? 3 : 6;
  const intervalMs = 1000;
  const thresholds = defaultThresholds;
  const floor = intervalMs * thresholds.failThreshold;
  const reprobeFloor = detectionFloorMs(intervalMs, thresholds);
  const taskQueue = `bench-detect-${randomUUID().slice(0, 8)}`;
  const service = `detect-${randomUUID().slice(0, 6)}`;
  const ssh = await startSshServer();
  const smtp = await startSmtpServer();
  const checkId = `${service}-ssh`;
  const config = genConfig({
    services: [service],
    levelTimeouts: ['1h'],
    // The postmortem goes to someone who is not level 1, so that only pages reach kari.
    owner: 'per',
    checks: [
      {
        id: checkId,
        service,
        kind: 'ssh',
        host: '127.0.0.1',
        port: ssh.port,
        fingerprint: ssh.fingerprint,
        interval: `${intervalMs / 1000}s`,
        timeout: '1s',
      },
    ],
  });
  const { client, connection } = await connectClient(ctx.address);
  const worker = await startWorker(ctx, { taskQueue, config, smtpUrl: smtp.url });
  const monitor = client.workflow.getHandle(monitorWorkflowId(checkId));
  const incident = client.workflow.getHandle(incidentWorkflowId(service));
  const opened: number[] = [];
  const mailed: number[] = [];
  const samples: { openedMs: number; mailMs: number; incident: string }[] = [];
  let shards: string[] = [];
  try {
    shards = (await reconcileMonitors(client, config, taskQueue)).shards;
    // Give the check's shard a few passing probes.
    await until(
      async () => (await monitor.query(monitorStateQuery)).health === 'healthy',
      30_000,
      'the monitor',
    );
    await sleep(3 * intervalMs);
    for (let i = 0; i < reps; i++) {
      // A fault at a random moment of the probe cycle.
      await sleep(500 + Math.random() * intervalMs);
      const fault = Date.now();
      await ssh.stop();
      const view = await until(
        async () => {
          const v = await incident.query(viewQuery).catch(() => undefined);
          return v && Date.parse(v.openedAt) >= fault ? v : undefined;
        },
        30_000,
        'the incident',
        50,
      );
      const runId = view.id.slice(view.id.indexOf('.') + 1);
      const pageId = messageIdFor(`${view.workflowId}/${runId}/page-1/kari`);
      const mail = await smtp.waitFor((m) => m.messageId === pageId, 30_000);
      const s = {
        openedMs: Date.parse(view.openedAt) - fault,
        mailMs: mail.receivedAt.getTime() - fault,
        incident: view.id,
      };
      samples.push(s);
      opened.push(s.openedMs);
      mailed.push(s.mailMs);
      ctx.log(`rep ${i + 1}: incident opened after ${s.openedMs} ms, level-1 mail after ${s.mailMs} ms`);

      // Back up: the monitor proves recovery and the incident resolves by itself.
      await ssh.start();
      await until(
        async () => {
          const v: IncidentView = await client.workflow.getHandle(view.workflowId, runId).query(viewQuery);
          return v.state === 'resolved';
        },
        60_000,
        'the incident to resolve',
        100,
      );
      await until(
        async () => (await monitor.query(monitorStateQuery)).health === 'healthy',
        30_000,
        'the monitor to be healthy',
      );
    }
    const op = summarize(opened);
    const ml = summarize(mailed);
    const bench = '6 detection (ssh, 1 s × 3)';
    const floorLabel = `interval × failThreshold`;
    return {
      name: 'detection',
      title: 'Detection latency against the floor interval × failThreshold',
      rows: [
        row({
          bench,
          metric: 'fault → incident opened, p50',
          value: op.p50,
          unit: 'ms',
          baselineLabel: floorLabel,
          baseline: floor,
        }),
        row({
          bench,
          metric: 'fault → incident opened, max',
          value: op.max,
          unit: 'ms',
          baselineLabel: floorLabel,
          baseline: floor,
        }),
        row({
          bench,
          metric: 'fault → level-1 mail, p50',
          value: ml.p50,
          unit: 'ms',
          baselineLabel: floorLabel,
          baseline: floor,
        }),
        row({
          bench,
          metric: 'fault → level-1 mail, max',
          value: ml.max,
          unit: 'ms',
          baselineLabel: floorLabel,
          baseline: floor,
        }),
        row({
          bench,
          metric: 'fault → incident opened, p50',
          value: op.p50,
          unit: 'ms',
          baselineLabel: 're-probe floor (failThreshold−2)×interval',
          baseline: reprobeFloor,
        }),
      ],
      details: {
        repetitions: reps,
        intervalMs,
        thresholds,
        floorMs: floor,
        reprobeFloorMs: reprobeFloor,
        openedMs: roundSummary(op),
        mailMs: roundSummary(ml),
        samples,
      },
    };
  } finally {
    await monitor.terminate('bench finished').catch(() => undefined);
    for (const id of shards)
      await client.workflow
        .getHandle(id)
        .terminate('bench finished')
        .catch(() => undefined);
    await worker.stop();
    await connection.close();
    await ssh.close();
    await smtp.close();
  }
}
