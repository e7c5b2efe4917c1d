/**
 * Reading the configuration as a model: who a target means, which checks prove a service, who is
 * affected when it fails, and the snapshot an incident starts with. Pure code.
 */
import type { Config, ProbeCheck, Service } from './config-schema.js';
import { durationMs } from './duration.js';
import { buildPlan, dedupeRecipients } from './escalation.js';
import { postmortemSettings } from './postmortem.js';
import { reachOf } from './notification-plan.js';
import type { AffectedService, Detection, IncidentInput, Recipient } from './incident.js';
import { incidentSeverity, severityRule } from './severity.js';

export function contactById(config: Config, id: string): Recipient | undefined {
  const c = config.contacts.find((x) => x.id === id);
  if (!c) return undefined;
  const reach = reachOf(c);
  return { id: c.id, name: c.name, email: c.email, ...(reach ? { reach } : {}) };
}

/**
 * Contact ids and `team:<id>` (every member) → recipients, each once, in order. `schedule:<id>` is
 * left out: whoever is on call is looked up when the level pages (EscalationStep.schedules).
 */
export function resolveTargets(config: Config, targets: readonly string[]): Recipient[] {
  const out: Recipient[] = [];
  for (const t of targets) {
    if (t.startsWith('schedule:')) continue;
    const ids = t.startsWith('team:') ? (config.teams.find((x) => x.id === t.slice(5))?.members ?? []) : [t];
    for (const id of ids) {
      const r = contactById(config, id);
      if (r) out.push(r);
    }
  }
  return dedupeRecipients(out);
}

export function serviceById(config: Config, id: string): Service | undefined {
  return config.services.find((s) => s.id === id);
}

/** The service and everything it depends on, transitively (the hosts its health rests on). */
export function dependencyClosure(config: Config, serviceId: string): string[] {
  const out: string[] = [];
  const visit = (id: string) => {
    if (out.includes(id)) return;
    out.push(id);
    for (const d of serviceById(config, id)?.dependsOn ?? []) visit(d);
  };
  visit(serviceId);
  return out;
}

/**
 * The checks that prove whether a service works: its own and those of what it depends on. Heartbeat
 * checks wait for pings and cannot be re-run on demand, so they are not among them.
 */
export function checksForService(config: Config, serviceId: string): ProbeCheck[] {
  const ids = dependencyClosure(config, serviceId);
  return config.checks.filter((c): c is ProbeCheck => c.kind !== 'heartbeat' && ids.includes(c.service));
}

/** The service and every service that (transitively) depends on it, with subscriber counts. */
export function affectedServices(config: Config, serviceId: string): AffectedService[] {
  const out: AffectedService[] = [];
  const visit = (id: string, root: boolean) => {
    if (out.some((a) => a.id === id)) return;
    const s = serviceById(config, id);
    if (!s) return;
    out.push({ id: s.id, name: s.name, component: s.component, subscribers: s.subscribers.length, root });
    for (const dependent of config.services.filter((x) => x.dependsOn.includes(id)))
      visit(dependent.id, false);
  };
  visit(serviceId, true);
  return out;
}

/** The webhooks of every team involved: the owner's teams and teams the policy pages. */
export function webhooksFor(
  config: Config,
  ownerId: string,
  targets: readonly string[],
): NonNullable<IncidentInput['webhooks']> {
  const teamIds = new Set<string>([
    ...config.teams.filter((t) => t.members.includes(ownerId)).map((t) => t.id),
    ...targets.filter((t) => t.startsWith('team:')).map((t) => t.slice(5)),
  ]);
  return config.teams
    .filter((t) => teamIds.has(t.id))
    .flatMap((t) => t.webhooks.map((w, index) => ({ team: t.id, index, format: w.format })));
}

export interface IncidentDefaults {
  publicBaseUrl?: string;
}

/** The snapshot an incident starts with. Throws on an unknown service (the API checks first). */
export function buildIncidentInput(
  config: Config,
  serviceId: string,
  detection: Detection,
  opts: IncidentDefaults = {},
): IncidentInput {
  const service = serviceById(config, serviceId);
  if (!service) throw new Error(`unknown service "${serviceId}"`);
  const policy = config.policies.find((p) => p.id === service.policy);
  if (!policy) throw new Error(`unknown policy "${service.policy}"`);
  const owner = contactById(config, service.owner);
  if (!owner) throw new Error(`unknown contact "${service.owner}"`);
  const affected = affectedServices(config, serviceId);
  const { severity } = incidentSeverity(
    detection.severity,
    service.severity,
    // The dependents: the service's own severity is the default a detection may override.
    affected.filter((a) => !a.root).map((a) => ({ id: a.id, severity: serviceById(config, a.id)!.severity })),
  );
  const rule = config.severities[severity];
  const checks = checksForService(config, serviceId);
  const longestTimeout = Math.max(10_000, ...checks.map((c) => (c.timeout ? durationMs(c.timeout) : 10_000)));
  return {
    service: { id: service.id, name: service.name, component: service.component, timezone: service.timezone },
    owner,
    severity,
    autoPublish: rule.autoPublish,
    postmortemDueDays: rule.postmortemDueDays,
    detection: { ...detection, severity, severityRule: severityRule(config, severity) },
    affected,
    checks,
    plan: buildPlan(policy, (t) => resolveTargets(config, t)),
    acknowledgementTimeoutMs: durationMs(policy.acknowledgementTimeout),
    verifyAttempts: config.incidents.verifyAttempts,
    verifyIntervalMs: config.incidents.verifyInterval ? durationMs(config.incidents.verifyInterval) : 10_000,
    recoveryPasses: config.incidents.recoveryPasses,
    recoveryIntervalMs: config.incidents.recoveryInterval
      ? durationMs(config.incidents.recoveryInterval)
      : Math.max(15_000, longestTimeout),
    notifyResolved: config.incidents.notifyResolved,
    communicationDeadlineMs:
      rule.communicationDeadline !== undefined ? durationMs(rule.communicationDeadline) : undefined,
    communications: dedupeRecipients(
      [service.communicationsContact, service.owner]
        .filter((x): x is string => !!x)
        .map((id) => contactById(config, id))
        .filter((r): r is Recipient => !!r),
    ),
    webhooks: webhooksFor(
      config,
      service.owner,
      policy.levels.flatMap((l) => l.notify),
    ),
    postmortem: postmortemSettings(config.postmortem),
    contacts: config.contacts.map(({ id, name, email }) => ({ id, name, email })),
    publicBaseUrl: opts.publicBaseUrl,
  };
}
