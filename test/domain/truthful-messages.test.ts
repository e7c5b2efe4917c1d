/**
 * Issue #13 item 3, "messages say only what is true", as pure decisions: what a page says comes next,
 * what proved the recovery (one source for the resolved mail, the console and the postmortem), when
 * a monitor's first failing probe ran, what skipped verification, and when "monitoring" goes out.
 */
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../domain/config-schema.js';
import { buildPlan, whoIsNext } from '../../domain/escalation.js';
import type { IncidentView, Recipient, TimelineEvent } from '../../domain/incident.js';
import {
  decide,
  initialState,
  type LifecycleCommand,
  type LifecycleEvent,
  type LifecycleRules,
  type LifecycleState,
} from '../../domain/incident-lifecycle.js';
import { proofOf, recoveryFacts, recoverySentences } from '../../domain/recovery-facts.js';
import { nextLine, pageMail, resolvedMail, verificationSkipped } from '../../domain/templates.js';
import { firstFailingProbe, incidentFigures, renderPostmortem } from '../../domain/postmortem.js';
import { buildIncidentView, ev, people } from '../helpers/incident-fixture.js';

const person = (id: string): Recipient => ({ id, name: id.toUpperCase(), email: `${id}@x.test` });
const minute = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const at = (m: number) => T0 + m * minute;
const iso = (m: number) => new Date(at(m)).toISOString();

const twoLevels: Policy = {
  id: 'p',
  levels: [
    { notify: ['kari'], ackTimeout: '5m' },
    { notify: ['ola'], ackTimeout: '10m' },
  ],
  repeat: 0,
  acknowledgementTimeout: '30m',
};
const withFallback: Policy = { ...twoLevels, finalFallback: { notify: ['per'] } };
const plan = (p: Policy) => buildPlan(p, (ids) => ids.map(person));

describe('who a page says comes next', () => {
  it.each([
    [
      'level 1 of two',
      twoLevels,
      0,
      'If nobody acknowledges within 5m (at 2026-03-02 10:05 UTC), level 2 is paged next: OLA.',
    ],
    [
      'level 2 of two, no fallback',
      twoLevels,
      1,
      'This is the last level: nobody further is paged automatically.',
    ],
    [
      'level 2 before the fallback',
      withFallback,
      1,
      'If nobody acknowledges within 10m (at 2026-03-02 10:10 UTC), the final fallback is paged next: PER.',
    ],
    ['the final fallback', withFallback, 2, 'This is the last level: nobody further is paged automatically.'],
  ])('%s', (_name, policy, step, expected) => {
    expect(nextLine(whoIsNext(plan(policy), step), iso(0))).toContain(expected);
  });

  it('the last level page promises nobody; earlier pages name the next person', () => {
    const view = buildIncidentView({ state: 'triggered', resolvedAt: undefined, closedAt: undefined });
    const last = pageMail(
      view,
      { level: 2, cycle: 0, reason: 'escalation' },
      people.owner,
      { incidentUrl: 'https://x/api/incidents/i' },
      whoIsNext(plan(twoLevels), 1),
      iso(0),
    );
    expect(last.text).toContain('nobody further is paged automatically');
    expect(last.text).not.toContain('the next person is paged automatically');
    const first = pageMail(
      view,
      { level: 1, cycle: 0, reason: 'initial' },
      people.owner,
      { incidentUrl: 'https://x/api/incidents/i' },
      whoIsNext(plan(twoLevels), 0),
      iso(0),
    );
    expect(first.text).toContain('level 2 is paged next: OLA');
  });
});

const tl = (...events: TimelineEvent[]) => events;
const view = (o: Partial<IncidentView>): IncidentView =>
  buildIncidentView({ resolveRequestedAt: undefined, ...o });

describe('recovery facts: one source', () => {
  const monitorResolved = view({
    source: 'probe',
    timeline: tl(
      ev(
        iso(0),
        'monitor:ssh',
        'detected',
        'detected (P1): ssh: refused (failing since 2026-03-02T09:58:30.000Z)',
      ),
      ev(
        iso(30),
        'probe',
        'resolved',
        'every failing check and alert recovered (last: check:ssh: 2 passing probe(s) in a row (3ms))',
      ),
    ),
  });
  it.each([
    [
      'monitors recovered (the bug: "No probe proved … 2 passing probe(s)")',
      monitorResolved,
      'keys',
      'Recovery was proven by the monitoring that reported it: every failing check and alert recovered (last: check:ssh: 2 passing probe(s) in a row (3ms)).',
    ],
    [
      'probe rounds after a resolve request',
      view({
        timeline: tl(
          ev(
            iso(20),
            'kari',
            'resolve-requested',
            'kari says it is resolved: restarted sshd; waiting for 2 passing probe round(s) in a row',
          ),
          ev(iso(21), 'probe', 'recovery-check', 'pass 1/2: all 1 probe(s) pass'),
          ev(iso(22), 'probe', 'recovery-check', 'pass 2/2: all 1 probe(s) pass'),
          ev(iso(22), 'probe', 'resolved', 'recovery proven: 2 passing probe round(s) in a row'),
        ),
      }),
      'probes',
      'Recovery was proven by 2 passing probe rounds in a row, after kari (“restarted sshd”) asked to resolve it.',
    ],
    [
      'no probe configured',
      view({
        timeline: tl(
          ev(
            iso(20),
            'ola',
            'resolve-requested',
            'ola says it is resolved; no probe is configured, so it is taken on their word',
          ),
          ev(iso(20), 'probe', 'resolved', 'no probe configured; resolved on the responder’s word'),
        ),
      }),
      'no-probe',
      'No probe proved the recovery: none is configured for the service, so it was resolved on the word of ola.',
    ],
  ])('%s', (_name, v, proof, first) => {
    const f = recoveryFacts(v);
    expect(f.proof).toBe(proof);
    expect(recoverySentences(f)[0]).toBe(first);
  });

  it('a force-resolve: no probe proof, by whom and why', () => {
    const v = view({
      timeline: tl(ev(iso(20), 'kari', 'resolved', 'resolved without probe proof by kari: host retired')),
    });
    expect(recoverySentences(recoveryFacts({ ...v, recoveryProof: 'unproven' }))[0]).toBe(
      'No probe proved the recovery: it was resolved without probe proof by kari: host retired.',
    );
  });

  it('the stored proof wins over the wording; old wordings are read', () => {
    expect(recoveryFacts({ ...monitorResolved, recoveryProof: 'unproven' }).proof).toBe('unproven');
    expect(proofOf('2 recovery checks passed in a row')).toBe('probes');
    expect(proofOf('checked by hand')).toBe('unproven');
  });

  it('the resolved mail and the postmortem state the same facts (the monitor-resolved case)', () => {
    const mail = resolvedMail(monitorResolved, people.owner, {
      incidentUrl: 'https://x/api/incidents/i',
    }).text;
    const draft = renderPostmortem(monitorResolved, {
      owner: people.owner,
      dueDate: '2026-03-09',
      generatedAt: iso(40),
    });
    for (const sentence of recoverySentences(recoveryFacts(monitorResolved))) {
      expect(mail).toContain(sentence);
      expect(draft).toContain(sentence.replace(/[\\`*_[\]<>&|~!{}#]/g, '\\$&'));
    }
    expect(mail).not.toMatch(/No probe proved/);
    expect(draft).not.toMatch(/none ran/);
    expect(mail).toContain('Recovery probe rounds run by the incident: none.');
  });

  it('counts every round the incident ran, not only those the view still lists', () => {
    const v = view({
      recoveryRounds: 7,
      timeline: tl(
        ev(iso(21), 'probe', 'recovery-check', 'pass 1/2: all 1 probe(s) pass'),
        ev(iso(22), 'probe', 'recovery-check', 'pass 2/2: all 1 probe(s) pass'),
        ev(iso(22), 'probe', 'resolved', 'recovery proven: 2 passing probe round(s) in a row'),
      ),
    });
    expect(recoverySentences(recoveryFacts(v))[1]).toBe(
      'Recovery probe rounds run by the incident: 7, the last: pass 2/2: all 1 probe(s) pass.',
    );
  });
});

describe('time to detect of a monitor-detected incident', () => {
  it.each([
    [
      'the field the monitor sent',
      { firstProbeFailureAt: iso(-2) } as Partial<IncidentView>,
      iso(-2),
      2 * minute,
    ],
    ['the reason of an older record', {} as Partial<IncidentView>, '2026-03-02T09:58:30.000Z', 90_000],
  ])('%s', (_name, extra, first, toDetect) => {
    const v = view({
      source: 'probe',
      openedAt: iso(0),
      ...extra,
      timeline: tl(
        ev(
          iso(0),
          'monitor:ssh',
          'detected',
          'detected (P1): ssh: refused — x (failing since 2026-03-02T09:58:30.000Z)',
        ),
      ),
    });
    v.timeline = extra.firstProbeFailureAt
      ? tl(ev(iso(0), 'monitor:ssh', 'detected', 'detected (P1): ssh: refused'))
      : v.timeline;
    expect(firstFailingProbe(v)).toBe(first);
    const fig = incidentFigures(v);
    expect(fig.timeToDetectMs).toBe(toDetect);
    const draft = renderPostmortem(v, { owner: people.owner, dueDate: '2026-03-09', generatedAt: iso(40) });
    expect(draft).toContain(`- First failing probe: ${first}.`);
    expect(draft).not.toContain('no failing probe recorded');
  });
});

describe('verification skipped names its real source', () => {
  it.each([
    ['probe', 'monitor:ssh', /the monitor monitor:ssh already saw its check fail/],
    ['event', 'alertmanager', /the alerting tool \(alertmanager\) already evaluated its rule/],
    ['api', 'kari', /kari vouches for the problem/],
    ['customer', 'customer', /the reporter vouches/],
  ] as const)('%s', (source, actor, text) => {
    expect(verificationSkipped({ source, actor })).toMatch(text);
    if (source !== 'customer') expect(verificationSkipped({ source, actor })).not.toMatch(/reporter/);
  });
});

describe('"monitoring — a fix is in place" only after a resolve and the first passing probe', () => {
  const rules = (o: Partial<LifecycleRules>): LifecycleRules => ({
    serviceName: 'Canvas',
    plan: plan(twoLevels),
    owner: person('owner'),
    acknowledgementTimeoutMs: 30 * minute,
    probes: 1,
    recoveryPasses: 2,
    recoveryIntervalMs: minute,
    autoPublish: true,
    notifyResolved: false,
    monitoringAfterFirstPass: true,
    ...o,
  });
  const play = (s: LifecycleState, events: LifecycleEvent[]) => {
    const out: LifecycleCommand[][] = [];
    for (const e of events) {
      const d = decide(s, e);
      out.push(d.commands);
      s = d.state;
    }
    return out;
  };
  const publishes = (cs: LifecycleCommand[]) =>
    cs
      .filter((c): c is Extract<LifecycleCommand, { kind: 'publish' }> => c.kind === 'publish')
      .map((c) => c.state);
  const start = (r: LifecycleRules) =>
    play(initialState(r, []), [{ type: 'verified', now: at(0) }]).length === 1
      ? decide(initialState(r, []), { type: 'verified', now: at(0) }).state
      : initialState(r, []);
  const probe = (failures: string, m: number): LifecycleEvent => ({
    type: 'probe-result',
    probes: 1,
    failures,
    now: at(m),
  });
  const resolveAndStart = (m: number): LifecycleEvent[] => [
    { type: 'resolve-request', actor: 'kari', now: at(m) },
    { type: 'recovery-start', now: at(m) },
  ];

  it.each([
    [
      'resolve, fail, fail: never',
      rules({}),
      [
        ...resolveAndStart(1),
        probe('down', 2),
        { type: 'timeout', timer: 'recovery-round', now: at(3) },
        probe('down', 3),
      ],
      [],
    ],
    [
      'resolve, pass, pass: monitoring at the first pass, then resolved',
      rules({}),
      [
        ...resolveAndStart(1),
        probe('', 2),
        { type: 'timeout', timer: 'recovery-round', now: at(3) },
        probe('', 3),
      ],
      ['monitoring', 'resolved'],
    ],
    [
      'one pass proves it: monitoring, then resolved',
      rules({ recoveryPasses: 1 }),
      [...resolveAndStart(1), probe('', 2)],
      ['monitoring', 'resolved'],
    ],
    ['no probe: resolved, never monitoring', rules({ probes: 0 }), resolveAndStart(1), ['resolved']],
    [
      'histories before the patch: monitoring at the resolve request',
      rules({ monitoringAfterFirstPass: false }),
      [...resolveAndStart(1), probe('down', 2)],
      ['monitoring'],
    ],
  ] as const)('%s', (_name, r, events, expected) => {
    const all = play(start(r), [...events] as LifecycleEvent[]);
    expect(all.flatMap(publishes)).toEqual(expected);
  });
});
