/**
 * The public status board in the shapes of Atlassian Statuspage's public API v2
 * (`/api/v2/summary.json`, `status.json`, `components.json`, `incidents.json`,
 * `incidents/unresolved.json`), so status aggregators and other monitors' "external status page"
 * checks read ours as they read any Statuspage page. Pure: it maps the board the status page shows
 * (api/status-board.ts), nothing more is published.
 *
 * - Components: every service with a `component`, id = service id, in config order (`position`).
 *   operational; `degraded_performance` while a P2/P3 incident affects it; `major_outage` for P0/P1.
 * - Incidents: those with a published status message (open, then the last 90 days), newest first,
 *   at most 50 in `incidents.json` as Statuspage does; `status` is the latest message's state
 *   (`resolved` once closed), `impact` P0 → critical, P1 → major, P2/P3 → minor; updates newest first.
 * - Page status: `none` when every component is operational, else the worst open incident's impact.
 */

export type StatuspageComponentStatus =
  'operational' | 'degraded_performance' | 'partial_outage' | 'major_outage' | 'under_maintenance';
export type StatuspageIndicator = 'none' | 'minor' | 'major' | 'critical';
export type StatuspageImpact = StatuspageIndicator;
export type StatuspageIncidentStatus =
  'investigating' | 'identified' | 'monitoring' | 'resolved' | 'postmortem';

/** The board's parts this needs (structurally the same as api/status-board.ts's StatusBoard). */
export interface BoardInput {
  generatedAt: string;
  components: Array<{
    service: string;
    component: string;
    status: 'operational' | 'degraded' | 'major_outage';
  }>;
  incidents: BoardIncidentInput[];
  history: BoardIncidentInput[];
  /** Maintenance windows in progress or upcoming (api/status-board.ts). */
  maintenance?: Array<{
    id: string;
    reason: string;
    start: string;
    end: string;
    inProgress: boolean;
    components: Array<{ service: string }>;
  }>;
}
export interface BoardIncidentInput {
  id: string;
  service: string;
  component: string;
  severity: string;
  state: string;
  openedAt: string;
  closedAt?: string;
  messages: Array<{ at: string; state: string; message: string }>;
}

export interface PageInfo {
  id: string;
  name: string;
  /** The public status page's URL. */
  url: string;
}

export interface StatuspagePage {
  id: string;
  name: string;
  url: string;
  time_zone: string;
  updated_at: string;
}
export interface StatuspageComponent {
  id: string;
  name: string;
  status: StatuspageComponentStatus;
  created_at: string;
  updated_at: string;
  position: number;
  description: string | null;
  showcase: boolean;
  start_date: string | null;
  group_id: string | null;
  page_id: string;
  group: boolean;
  only_show_if_degraded: boolean;
}
export interface StatuspageIncidentUpdate {
  id: string;
  status: StatuspageIncidentStatus;
  body: string;
  incident_id: string;
  created_at: string;
  updated_at: string;
  display_at: string;
}
export interface StatuspageIncident {
  id: string;
  name: string;
  status: StatuspageIncidentStatus;
  created_at: string;
  updated_at: string;
  monitoring_at: string | null;
  resolved_at: string | null;
  impact: StatuspageImpact;
  shortlink: string;
  started_at: string;
  page_id: string;
  incident_updates: StatuspageIncidentUpdate[];
  components: StatuspageComponent[];
}
export interface StatuspageStatus {
  indicator: StatuspageIndicator;
  description: string;
}

const componentStatus: Record<BoardInput['components'][number]['status'], StatuspageComponentStatus> = {
  operational: 'operational',
  degraded: 'degraded_performance',
  major_outage: 'major_outage',
};

export function impactOf(severity: string): StatuspageImpact {
  return severity === 'P0' ? 'critical' : severity === 'P1' ? 'major' : 'minor';
}

const indicatorText: Record<StatuspageIndicator, string> = {
  none: 'All Systems Operational',
  minor: 'Minor Service Outage',
  major: 'Partial System Outage',
  critical: 'Major System Outage',
};
const rank: StatuspageIndicator[] = ['none', 'minor', 'major', 'critical'];

const incidentStates = new Set(['investigating', 'identified', 'monitoring', 'resolved']);
const asStatus = (s: string): StatuspageIncidentStatus =>
  incidentStates.has(s) ? (s as StatuspageIncidentStatus) : 'investigating';

const latest = (xs: string[], fallback: string) =>
  xs.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a), fallback);

export function statuspageShapes(board: BoardInput, page: PageInfo) {
  const pageObj: StatuspagePage = {
    id: page.id,
    name: page.name,
    url: page.url,
    time_zone: 'Etc/UTC',
    updated_at: board.generatedAt,
  };
  const all = [...board.incidents, ...board.history];

  const components: StatuspageComponent[] = board.components.map((c, i) => {
    const times = all
      .filter((x) => x.service === c.service)
      .flatMap((x) => [x.openedAt, ...(x.closedAt ? [x.closedAt] : []), ...x.messages.map((m) => m.at)]);
    const changed = times.length ? latest(times, times[0]!) : board.generatedAt;
    return {
      id: c.service,
      name: c.component,
      status: componentStatus[c.status],
      created_at: times.length ? times.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)) : changed,
      updated_at: changed,
      position: i + 1,
      description: null,
      showcase: true,
      start_date: null,
      group_id: null,
      page_id: page.id,
      group: false,
      only_show_if_degraded: false,
    };
  });
  const byService = new Map(components.map((c) => [c.id, c]));

  const incident = (x: BoardIncidentInput): StatuspageIncident => {
    const newestFirst = [...x.messages].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    const monitoring = x.messages.find((m) => m.state === 'monitoring');
    const component = byService.get(x.service);
    return {
      id: x.id,
      name: `${x.component}: ${impactOf(x.severity) === 'minor' ? 'degraded service' : 'service outage'}`,
      status: x.closedAt ? 'resolved' : asStatus(x.state),
      created_at: x.openedAt,
      updated_at: latest([...x.messages.map((m) => m.at), ...(x.closedAt ? [x.closedAt] : [])], x.openedAt),
      monitoring_at: monitoring?.at ?? null,
      resolved_at: x.closedAt ?? null,
      impact: impactOf(x.severity),
      shortlink: page.url,
      started_at: x.openedAt,
      page_id: page.id,
      incident_updates: newestFirst.map((m, i) => ({
        id: `${x.id}-${newestFirst.length - i}`,
        status: asStatus(m.state),
        body: m.message,
        incident_id: x.id,
        created_at: m.at,
        updated_at: m.at,
        display_at: m.at,
      })),
      components: component ? [component] : [],
    };
  };

  const unresolved = board.incidents.map(incident);
  const recent = [...unresolved, ...board.history.map(incident)].slice(0, 50);
  const worst = board.components.some((c) => c.status !== 'operational')
    ? board.incidents.reduce<StatuspageIndicator>((w, x) => {
        const i = impactOf(x.severity);
        return rank.indexOf(i) > rank.indexOf(w) ? i : w;
      }, 'minor')
    : 'none';
  const status: StatuspageStatus = { indicator: worst, description: indicatorText[worst] };

  // Scheduled maintenances, in Statuspage's shape (an incident with impact "maintenance").
  const maintenances = (board.maintenance ?? []).map((m) => {
    const status = m.inProgress ? ('in_progress' as const) : ('scheduled' as const);
    return {
      id: m.id,
      name: m.reason,
      status,
      created_at: board.generatedAt,
      updated_at: board.generatedAt,
      monitoring_at: null,
      resolved_at: null,
      impact: 'maintenance' as const,
      shortlink: page.url,
      started_at: m.start,
      page_id: page.id,
      scheduled_for: m.start,
      scheduled_until: m.end,
      incident_updates: [
        {
          id: `${m.id}-1`,
          status,
          body: m.reason,
          incident_id: m.id,
          created_at: board.generatedAt,
          updated_at: board.generatedAt,
          display_at: board.generatedAt,
        },
      ],
      components: m.components.flatMap((c) => (byService.get(c.service) ? [byService.get(c.service)!] : [])),
    };
  });

  return {
    maintenances: { page: pageObj, scheduled_maintenances: maintenances },
    upcomingMaintenances: {
      page: pageObj,
      scheduled_maintenances: maintenances.filter((m) => m.status === 'scheduled'),
    },
    activeMaintenances: {
      page: pageObj,
      scheduled_maintenances: maintenances.filter((m) => m.status === 'in_progress'),
    },
    status: { page: pageObj, status },
    components: { page: pageObj, components },
    incidents: { page: pageObj, incidents: recent },
    unresolved: { page: pageObj, incidents: unresolved },
    summary: {
      page: pageObj,
      components,
      incidents: unresolved,
      scheduled_maintenances: maintenances,
      status,
    },
  };
}
