/**
 * Personal notification rules (PagerDuty/GoAlert semantics): when a person is paged, each rule sends
 * on one of their contact methods after its delay ("push at 0, SMS after 2 min, email at 0"), until
 * the incident is acknowledged. A permanent failure of one send moves at once to the person's next
 * waiting send; a person every send of whom failed is unreached, and a level whose every person is
 * unreached has reached nobody (the workflow escalates at once).
 *
 * Pure: no I/O, no clock (times are given), safe to import from workflow code.
 */
import type { ChannelKind } from './channels.js';
import type { Contact, ContactMethod } from './config-schema.js';
import { durationMs } from './duration.js';

/** One way to reach a person, with its address resolved (`to` as the channel takes it). */
export interface ReachMethod {
  id: string;
  kind: ChannelKind;
  to: string;
}

/** A person's methods and rules as an incident snapshots them (durations in ms). */
export interface Reach {
  methods: ReachMethod[];
  rules: { method: string; afterMs: number }[];
}

/**
 * The address a method sends to: its own `to`, or what the contact already says (its email, its
 * chat ids; webhook and Teams posts name the contact by id). Undefined: the method needs a `to`.
 */
export function methodAddress(
  contact: Pick<Contact, 'id' | 'email' | 'slackUserId' | 'mattermostUsername'>,
  m: Pick<ContactMethod, 'kind' | 'to'>,
): string | undefined {
  if (m.to !== undefined) return m.to;
  switch (m.kind) {
    case 'email':
      return contact.email;
    case 'slack':
      return contact.slackUserId;
    case 'mattermost':
      return contact.mattermostUsername;
    case 'webhook':
    case 'teams':
      return contact.id;
    default:
      return undefined;
  }
}

/**
 * The reach an incident snapshots for a contact, or undefined when the contact has no rules (then
 * a page is one email at once, as before rules existed). Only the methods the rules use are kept.
 * Expects a validated config (every rule names a method, every method has an address).
 */
export function reachOf(contact: Contact): Reach | undefined {
  if (!contact.rules || contact.rules.length === 0) return undefined;
  const all: ReachMethod[] = [
    { id: 'email', kind: 'email', to: contact.email },
    ...(contact.methods ?? []).map((m) => ({ id: m.id, kind: m.kind, to: methodAddress(contact, m) ?? '' })),
  ];
  const rules = contact.rules.map((r) => ({
    method: r.method,
    afterMs: r.after === 0 ? 0 : durationMs(r.after),
  }));
  const used = new Set(rules.map((r) => r.method));
  // A method id given twice (refused by validation) counts once: the first.
  const methods = all.filter((m, i) => used.has(m.id) && all.findIndex((x) => x.id === m.id) === i);
  return { methods, rules };
}

/** The plan of a person without rules: email at once. */
export function defaultReach(email: string): Reach {
  return { methods: [{ id: 'email', kind: 'email', to: email }], rules: [{ method: 'email', afterMs: 0 }] };
}

export type SendState = 'waiting' | 'sending' | 'reached' | 'failed' | 'stopped';

/** One planned send of a page to one person. */
export interface PlannedSend {
  method: ReachMethod;
  /** The rule's delay after the page. */
  afterMs: number;
  /** When it is due (ms since the epoch); a failover moves it earlier, never later. */
  dueAt: number;
  state: SendState;
}

/**
 * What to send when for a page at `pagedAt`: one send per rule, ordered by delay (ties keep the
 * order of the rules), every one waiting. A rule naming an unknown method is left out, and the same
 * method at the same delay twice is sent once.
 */
export function notificationPlan(reach: Reach, pagedAt: number): PlannedSend[] {
  const out: PlannedSend[] = [];
  for (const r of reach.rules) {
    const method = reach.methods.find((m) => m.id === r.method);
    if (!method) continue;
    const afterMs = Math.max(0, r.afterMs);
    if (out.some((s) => s.method.id === method.id && s.afterMs === afterMs)) continue;
    out.push({ method, afterMs, dueAt: pagedAt + afterMs, state: 'waiting' });
  }
  // Array.prototype.sort is stable: equal delays keep the rules' order.
  return out.sort((a, b) => a.afterMs - b.afterMs);
}

/**
 * After send `failed` failed for good at `now`: it is marked failed, and the person's next waiting
 * send (the earliest due) becomes due now. Answers the index of the send moved forward, if any.
 * Mutates `plan` (the workflow keeps it as its state).
 */
export function failOver(plan: PlannedSend[], failed: number, now: number): number | undefined {
  const s = plan[failed];
  if (s) s.state = 'failed';
  let next: number | undefined;
  plan.forEach((p, i) => {
    if (p.state === 'waiting' && (next === undefined || p.dueAt < plan[next]!.dueAt)) next = i;
  });
  if (next !== undefined) plan[next]!.dueAt = Math.min(plan[next]!.dueAt, now);
  return next;
}

export type PersonOutcome = 'reached' | 'unreached' | 'open';

/** Reached: a send was taken by its service. Unreached: every send failed for good. Else open. */
export function personOutcome(plan: readonly PlannedSend[]): PersonOutcome {
  if (plan.some((p) => p.state === 'reached')) return 'reached';
  if (plan.length === 0 || plan.every((p) => p.state === 'failed')) return 'unreached';
  return 'open';
}

/** A level reached nobody when it paged someone and every one of them is unreached. */
export function nobodyReached(people: readonly PersonOutcome[]): boolean {
  return people.length > 0 && people.every((p) => p === 'unreached');
}
