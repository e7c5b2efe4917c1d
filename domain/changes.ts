/**
 * Change events from change-management tools (a firewall rule, a deploy, a config change): what the
 * postmortem lists as the first candidates for the five whys. The seed incident's cause was exactly
 * such a change. Pure: no I/O, no clock; the change-log workflow and the postmortem both use it.
 */
import type { Check } from './config-schema.js';
import type { IncidentView } from './incident.js';

/** One change, as recorded. `at` is when the change was made (UTC ISO-8601). */
export interface ChangeEvent {
  /** Idempotency key: the tool's own change id, or one the API made up. */
  id: string;
  /** Who made the change (a person or a tool). */
  who: string;
  what: string;
  hosts: string[];
  services: string[];
  at: string;
  /** The staff contact whose token recorded it. */
  recordedBy: string;
  recordedAt: string;
}

export interface ChangeFilter {
  /** ISO-8601, inclusive. */
  from?: string;
  /** ISO-8601, inclusive. */
  to?: string;
  /** Host names and service ids; a change matches when it names any of them. Absent: every change. */
  targets?: string[];
}

const norm = (s: string) => s.trim().toLowerCase().replace(/\.$/, '');
/** `w3prod-datasync02.example.edu` and `w3prod-datasync02` name the same machine. */
const shortName = (s: string) => norm(s).split('.')[0] ?? '';

/** Whether the change names one of the targets (service ids, host names; short host names match). */
export function changeMatches(
  change: Pick<ChangeEvent, 'hosts' | 'services'>,
  targets: readonly string[],
): boolean {
  const full = new Set(targets.map(norm));
  const short = new Set(targets.map(shortName));
  return [...change.hosts, ...change.services].some((x) => full.has(norm(x)) || short.has(shortName(x)));
}

/** The changes in the window that touch the targets, oldest first. */
export function filterChanges(changes: readonly ChangeEvent[], f: ChangeFilter): ChangeEvent[] {
  const from = f.from ? Date.parse(f.from) : -Infinity;
  const to = f.to ? Date.parse(f.to) : Infinity;
  return changes
    .filter((c) => {
      const t = Date.parse(c.at);
      return t >= from && t <= to && (f.targets === undefined || changeMatches(c, f.targets));
    })
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/**
 * What the change log keeps: changes made or recorded within `retentionMs` before `nowMs` (a backfill
 * of older changes is kept for the retention after it is recorded), at most `maxEntries` of them, the
 * most recent kept.
 */
export function pruneChanges(
  changes: readonly ChangeEvent[],
  nowMs: number,
  o: { retentionMs: number; maxEntries: number },
): ChangeEvent[] {
  const recent = (c: ChangeEvent) => Math.max(Date.parse(c.at), Date.parse(c.recordedAt) || 0);
  const kept = changes
    .filter((c) => recent(c) >= nowMs - o.retentionMs)
    .sort((a, b) => recent(a) - recent(b));
  return kept
    .slice(Math.max(0, kept.length - o.maxEntries))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

function hostOf(check: Check): string[] {
  if ('host' in check) return [check.host];
  if ('url' in check) {
    const m = /^https?:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)/i.exec(check.url);
    return m ? [m[1]!] : [];
  }
  return [];
}

/**
 * What a change must name to concern an incident: the service, everything affected, the services its
 * checks belong to (the hosts it depends on) and the hosts those checks reach.
 */
export function changeTargets(
  view: Pick<IncidentView, 'service' | 'affected'>,
  checks: readonly Check[] = [],
): string[] {
  const out = [view.service.id, ...view.affected.map((a) => a.id)];
  for (const c of checks) out.push(c.service, ...hostOf(c));
  return [...new Set(out.map(norm))];
}
