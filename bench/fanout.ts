/**
 * 9. Page fan-out by notification rules: 1,000 incidents paging at one common instant, each page
 * going to one person by three methods at once (rules push@0, SMS@0, email@0: ntfy, an SMS gateway
 * and email, every send through `deliver`, its ledger entry and its recorded attempts), beside
 * email-only pages (a contact without rules: the mail path as before) in the same run, same worker
 * build, same record store. ntfy and the gateway are one local HTTP server that answers 200 and
 * notes when each request arrived; mail goes to the outbox, its sent-ledger `sentAt` is the arrival.
 *
 * Figures: deliveries per second (all deliveries / time from the common instant to the last one)
 * and page latency (arrival − the common instant) p50/p99, over every delivery.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { validateConfig } from '../config/load.js';
import type { Config } from '../domain/config-schema.js';
import { buildIncidentInput } from '../domain/model.js';
import {
  incidentServiceKey,
  incidentSeverityKey,
  incidentStateKey,
  incidentWorkflowId,
} from '../workflows/definitions.js';
import { readLedger, startAt } from './escalation.js';
import {
  connectClient,
  cpuSeconds,
  genConfig,
  ids,
  round,
  roundSummary,
  row,
  startWorker,
  summarize,
  until,
  type BenchContext,
  type BenchOptions,
  type BenchResult,
  type Summary,
} from './lib.js';

/** ntfy and the SMS gateway: answers 200 at once, keeps only when each request arrived and where. */
async function startReceiver(): Promise<{
  url: string;
  arrivals: { path: string; at: number }[];
  close(): Promise<void>;
}> {
  const arrivals: { path: string; at: number }[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.push({ path: req.url ?? '', at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.startsWith('/sms') ? '{"id":"s","state":"Pending"}' : '{"id":"n","event":"message"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The same configuration with every contact paged by push, SMS and email at once. */
function withRules(base: Config, receiver: string): Config {
  const raw = JSON.parse(JSON.stringify(base)) as Record<string, unknown> & {
    contacts: { id: string }[];
  };
  raw.contacts = raw.contacts.map((c) => ({
    ...c,
    methods: [
      { id: 'push', kind: 'ntfy', to: `${c.id}-pager` },
      { id: 'phone', kind: 'sms', to: '+4791234567' },
    ],
    rules: [
      { method: 'push', after: 0 },
      { method: 'phone', after: 0 },
      { method: 'email', after: 0 },
    ],
  }));
  raw.channels = {
    ntfy: { url: `${receiver}/ntfy` },
    sms: { url: `${receiver}/sms/message`, body: '{"phoneNumbers":[{{to}}],"message":{{message}}}' },
  };
  return validateConfig(raw, 'bench');
}

interface Phase {
  deliveries: number;
  perSecond: number;
  latency: Summary;
  lastAfterMs: number;
  cpu: { worker: number; server: number };
}

export async function fanoutBench(ctx: BenchContext, o: BenchOptions): Promise<BenchResult> {
  const n = o.quick ? 200 : 1000;
  const receiver = await startReceiver();
  const { client, connection } = await connectClient(ctx.address);

  async function phase(name: 'email' | 'rules'): Promise<Phase> {
    const taskQueue = `bench-fan-${name}-${randomUUID().slice(0, 8)}`;
    const services = ids(`fan-${name}`, n);
    const base = genConfig({ services, levelTimeouts: ['1h', '1h', '1h'] });
    const config = name === 'rules' ? withRules(base, receiver.url) : base;
    const ledgerDir = path.join(ctx.tmpDir, `${taskQueue}-sent`);
    const worker = await startWorker(ctx, { taskQueue, config, ledgerDir });
    receiver.arrivals.length = 0;
    const expected = name === 'rules' ? 3 * n : n;
    try {
      const cpu0 = { worker: worker.cpuSeconds(), server: cpuSeconds(ctx.serverPid) };
      const at = Date.now() + 2_000 + Math.ceil(n / 150) * 1000;
      const created = await startAt(client, n, at, (i) => {
        const service = services[i]!;
        const input = buildIncidentInput(
          config,
          service,
          { eventId: randomUUID(), source: 'api', actor: 'kari', reason: 'bench: fan-out', skipVerify: true },
          { publicBaseUrl: 'http://127.0.0.1:3000' },
        );
        return {
          workflowType: 'incidentWorkflow',
          workflowId: incidentWorkflowId(service),
          taskQueue,
          args: [input],
          typedSearchAttributes: [
            { key: incidentServiceKey, value: service },
            { key: incidentSeverityKey, value: input.severity },
            { key: incidentStateKey, value: 'verifying' },
          ],
        };
      });
      ctx.log(`${name}: ${n} incidents created in ${created.createMs} ms (${created.late} late)`);
      const arrivals = () => [
        ...readLedger(ledgerDir).map((e) => Date.parse(e.sentAt)),
        ...receiver.arrivals.map((a) => a.at),
      ];
      await until(() => arrivals().length >= expected, 300_000, `${expected} ${name} deliveries`, 500);
      const cpu1 = { worker: worker.cpuSeconds(), server: cpuSeconds(ctx.serverPid) };
      const times = arrivals();
      const latency = summarize(times.map((t) => t - at));
      const lastAfterMs = Math.max(...times) - at;
      ctx.log(`${name}: ${times.length} deliveries, the last ${lastAfterMs} ms after the common instant`);
      return {
        deliveries: times.length,
        perSecond: (times.length / Math.max(1, lastAfterMs)) * 1000,
        latency,
        lastAfterMs,
        cpu: { worker: round(cpu1.worker - cpu0.worker), server: round(cpu1.server - cpu0.server) },
      };
    } finally {
      await worker.stop();
    }
  }

  try {
    const email = await phase('email');
    const rules = await phase('rules');
    const bench = `9 page fan-out (${n} incidents)`;
    const baselineLabel = 'email only, same run';
    return {
      name: 'fanout',
      title: `Page fan-out: ${n} incidents × 3 methods (push, SMS, email) vs email only`,
      rows: [
        row({
          bench,
          metric: 'deliveries per second',
          value: rules.perSecond,
          unit: '/s',
          baselineLabel,
          baseline: email.perSecond,
        }),
        row({
          bench,
          metric: 'page latency p50',
          value: rules.latency.p50,
          unit: 'ms',
          baselineLabel,
          baseline: email.latency.p50,
        }),
        row({
          bench,
          metric: 'page latency p99',
          value: rules.latency.p99,
          unit: 'ms',
          baselineLabel,
          baseline: email.latency.p99,
        }),
      ],
      details: {
        incidents: n,
        rules: { ...rules, latency: roundSummary(rules.latency), perSecond: round(rules.perSecond, 1) },
        emailOnly: { ...email, latency: roundSummary(email.latency), perSecond: round(email.perSecond, 1) },
      },
    };
  } finally {
    await connection.close();
    await receiver.close();
  }
}
