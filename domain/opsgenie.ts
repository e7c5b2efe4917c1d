/**
 * Opsgenie Alert API v2 → our incidents, as pure decisions (the route in api/routes/opsgenie.ts does
 * the I/O): priority → severity, which configured service an alert is about, and the reason text.
 */
import { severities, type Severity } from './severities.js';

export const opsgeniePriorities = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
export type OpsgeniePriority = (typeof opsgeniePriorities)[number];

/**
 * Opsgenie's P1 (critical) … P5 (informational), default P3, in our P0–P3 scale: P1 → P1 (as a
 * PagerDuty `critical`), P2 → P2, P3–P5 → P3; never less severe than the service's configured
 * severity (the floor), as for every inbound event. P0 stays a person's (or the config's) call.
 */
const priorityMap: Record<OpsgeniePriority, Severity> = { P1: 'P1', P2: 'P2', P3: 'P3', P4: 'P3', P5: 'P3' };

export function opsgenieSeverity(priority: string | undefined, floor: Severity): Severity {
  const mapped = priorityMap[(priority || 'P3') as OpsgeniePriority] ?? priorityMap.P3;
  return severities.indexOf(mapped) < severities.indexOf(floor) ? mapped : floor;
}

export interface OpsgenieAlertFields {
  message: string;
  entity?: string;
  description?: string;
  source?: string;
  details?: Record<string, string>;
  tags?: string[];
}

/**
 * The configured service an alert names, and where: `details.service`, else `entity`, when it is a
 * configured service id; otherwise none (the integration's own service takes it).
 */
export function opsgenieNamedService(
  a: Pick<OpsgenieAlertFields, 'details' | 'entity'>,
  configured: ReadonlySet<string>,
): { service: string; field: string } | undefined {
  const fromDetails = a.details?.service?.trim();
  if (fromDetails && configured.has(fromDetails)) return { service: fromDetails, field: 'details.service' };
  const entity = a.entity?.trim();
  if (entity && configured.has(entity)) return { service: entity, field: 'entity' };
  return undefined;
}

/** The incident's reason: the message, with the entity and source when they add something. */
export function opsgenieReason(a: OpsgenieAlertFields, max = 2000): string {
  const about = [a.entity, a.source].filter((x): x is string => !!x && x.trim() !== '' && x !== a.message);
  const text = about.length ? `${a.message} (${about.join(', ')})` : a.message;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
