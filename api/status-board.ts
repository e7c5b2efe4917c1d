/**
 * What the public sees — components, open incidents with their status messages, and the history of
 * the last 90 days — read from the record store (one query) for the status page, its Atom feed and
 * `/api/status`. It answers while Temporal stalls, and after Temporal's retention has dropped the
 * histories.
 *
 * Only incidents of services in this configuration are shown, and only those with a published status
 * message. The public page is what everybody reloads during an outage: requests that arrive while a
 * read is under way share it, so the store sees one read at a time however many people reload. When
 * the store cannot be reached, the last board read is served, marked stale.
 */
import type { Config } from '../domain/config-schema.js';
import type { IncidentView, StatusState } from '../domain/incident.js';
import { statusMessage } from '../domain/templates.js';
import type { Records } from '../store/records.js';
import { allOccurrences, coveredComponents } from '../domain/maintenance.js';

/** A published status message as the public sees it: no author (staff ids are not public). */
export interface PublicStatusMessage {
  at: string;
  state: StatusState;
  message: string;
}

export type ComponentStatus = 'operational' | 'degraded' | 'major_outage';

export interface BoardComponent {
  service: string;
  component: string;
  status: ComponentStatus;
  /** Ids of the open incidents (with a published message) that affect it. */
  incidents: string[];
}

export interface BoardIncident {
  id: string;
  service: string;
  component: string;
  severity: string;
  /** The state of the latest status message. */
  state: StatusState;
  openedAt: string;
  closedAt?: string;
  messages: PublicStatusMessage[];
}

export interface StatusBoard {
  generatedAt: string;
  /** True when the record store could not be reached and this is the last board read. */
  stale: boolean;
  historyDays: number;
  components: BoardComponent[];
  /** Open incidents with at least one published message, newest first. */
  incidents: BoardIncident[];
  /** Closed incidents of the last `historyDays` with a published message, newest first. */
  history: BoardIncident[];
  /** Maintenance windows in progress or starting within 7 days, soonest first (from the config). */
  maintenance: BoardMaintenance[];
}

export interface BoardMaintenance {
  /** `<window id>/<start ISO>`. */
  id: string;
  reason: string;
  start: string;
  end: string;
  inProgress: boolean;
  components: { service: string; component: string }[];
}

export interface StatusBoardOptions {
  records: Pick<Records, 'boardIncidents'>;
  config: Config;
  /** How long after it finished one read of the store serves further requests (default 0: only those that arrived during it). */
  cacheMs?: number;
  historyDays?: number;
  now?: () => number;
}

export function createStatusBoard(o: StatusBoardOptions) {
  const cacheMs = o.cacheMs ?? 0;
  const historyDays = o.historyDays ?? 90;
  const now = o.now ?? Date.now;
  const serviceIds = o.config.services.map((s) => s.id);
  let cached: { at: number; pending: boolean; board: Promise<StatusBoard> } | undefined;
  let lastGood: StatusBoard | undefined;

  // L8: only public component names and public text. An incident shows under its service's
  // component or, for a service without one (a host), the first affected service's component; an
  // incident that touches no public component is not shown. The workflow's automatic messages are
  // rendered again with the public name and without the detection's reason (a probe's text, an
  // internal host name); what staff wrote themselves is public text and shown as written.
  const componentOf = new Map(
    o.config.services.filter((s) => s.component).map((s) => [s.id, s.component!] as const),
  );
  const publicService = (v: IncidentView): { service: string; component: string } | undefined => {
    for (const id of [v.service.id, ...v.affected.map((a) => a.id)]) {
      const component = componentOf.get(id);
      if (component) return { service: id, component };
    }
    return undefined;
  };
  const toIncident = (v: IncidentView): BoardIncident | undefined => {
    const shown = publicService(v);
    if (!shown) return undefined;
    const own = { component: v.service.component ?? v.service.name, severity: v.severity };
    const automatic = (m: IncidentView['status'][number]) =>
      m.author === 'system' ||
      m.message === statusMessage(m.state, { ...own, reason: v.source === 'customer' ? '' : v.reason }) ||
      m.message === statusMessage(m.state, { ...own, reason: '' });
    return {
      id: v.id,
      service: shown.service,
      component: shown.component,
      severity: v.severity,
      state: v.status[v.status.length - 1]!.state,
      openedAt: v.openedAt,
      ...(v.closedAt ? { closedAt: v.closedAt } : {}),
      messages: v.status.map((m) => ({
        at: m.at,
        state: m.state,
        message: automatic(m)
          ? statusMessage(m.state, { component: shown.component, severity: v.severity, reason: '' })
          : m.message,
      })),
    };
  };
  const shownIncidents = (views: IncidentView[]) =>
    views.map(toIncident).filter((x): x is BoardIncident => x !== undefined);
  const newestFirst = (a: BoardIncident, b: BoardIncident) =>
    Date.parse(b.closedAt ?? b.openedAt) - Date.parse(a.closedAt ?? a.openedAt);

  async function read(): Promise<StatusBoard> {
    const t = now();
    const cutoff = new Date(t - historyDays * 24 * 60 * 60 * 1000).toISOString();
    // Only incidents of services in this configuration, and only those with a published message.
    const views = (await o.records.boardIncidents(cutoff, serviceIds)).filter((v) => v.status.length > 0);
    const open = views.filter((v) => !v.closedAt);
    const components = o.config.services
      .filter((s) => s.component)
      .map((s): BoardComponent => {
        const affecting = open.filter((v) => v.affected.some((a) => a.id === s.id));
        return {
          service: s.id,
          component: s.component!,
          status:
            affecting.length === 0
              ? 'operational'
              : affecting.some((v) => v.severity === 'P0' || v.severity === 'P1')
                ? 'major_outage'
                : 'degraded',
          incidents: affecting.map((v) => v.id),
        };
      });
    const board: StatusBoard = {
      generatedAt: new Date(t).toISOString(),
      stale: false,
      historyDays,
      components,
      incidents: shownIncidents(open).sort(newestFirst),
      history: shownIncidents(views.filter((v) => v.closedAt)).sort(newestFirst),
      maintenance: allOccurrences(o.config.maintenance, t, t + 7 * 24 * 60 * 60 * 1000)
        .map((m) => ({
          id: m.key,
          reason: m.reason,
          start: new Date(m.start).toISOString(),
          end: new Date(m.end).toISOString(),
          inProgress: m.start <= t,
          components: coveredComponents(o.config, m).map((service) => ({
            service,
            component: o.config.services.find((s) => s.id === service)!.component!,
          })),
        }))
        .filter((m) => m.components.length > 0),
    };
    lastGood = board;
    return board;
  }

  return {
    /**
     * The board. Requests that arrive while a read is under way share it (and, with `cacheMs`, for
     * that long after); the last good board, marked stale, when the store is unreachable.
     */
    async get(): Promise<StatusBoard> {
      const t = now();
      if (cached && (cached.pending || t - cached.at < cacheMs)) return cached.board;
      const entry: { at: number; pending: boolean; board: Promise<StatusBoard> } = {
        at: t,
        pending: true,
        board: read()
          .catch((e: unknown) => {
            if (cached === entry) cached = undefined;
            if (lastGood) return { ...lastGood, stale: true };
            throw e;
          })
          .finally(() => {
            entry.pending = false;
          }),
      };
      cached = entry;
      return entry.board;
    },
  };
}

export type StatusBoardReader = ReturnType<typeof createStatusBoard>;
