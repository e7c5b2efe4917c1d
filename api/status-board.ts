/**
 * What the public sees — components, open incidents with their status messages, and the history of
 * the last 90 days — read from Temporal once for the status page, its Atom feed and `/api/status`.
 *
 * Only incidents of services in this configuration are shown (a namespace may hold other
 * deployments'), and only those with a published status message. A closed incident never changes, so
 * its view is kept after the first read. The public page is what everybody reloads during an outage:
 * requests that arrive while a read of Temporal is under way share it, so the load on Temporal stays
 * at one read at a time however many people reload. When Temporal cannot be reached, the last board
 * read is served, marked stale.
 */
import type { Config } from '../domain/config-schema.js';
import type { IncidentView, StatusMessage, StatusState } from '../domain/incident.js';
import type { IncidentService } from './incident-service.js';

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
  messages: StatusMessage[];
}

export interface StatusBoard {
  generatedAt: string;
  /** True when Temporal could not be reached and this is the last board read. */
  stale: boolean;
  historyDays: number;
  components: BoardComponent[];
  /** Open incidents with at least one published message, newest first. */
  incidents: BoardIncident[];
  /** Closed incidents of the last `historyDays` with a published message, newest first. */
  history: BoardIncident[];
}

export interface StatusBoardOptions {
  incidents: Pick<IncidentService, 'list' | 'get'>;
  config: Config;
  /** How long after it finished one read of Temporal serves further requests (default 0: only those that arrived during it). */
  cacheMs?: number;
  historyDays?: number;
  /** How many incidents (open and closed, newest first) one read looks at (default 300). */
  listLimit?: number;
  now?: () => number;
}

const maxClosedViews = 1000;

export function createStatusBoard(o: StatusBoardOptions) {
  const cacheMs = o.cacheMs ?? 0;
  const historyDays = o.historyDays ?? 90;
  const now = o.now ?? Date.now;
  const serviceIds = new Set(o.config.services.map((s) => s.id));
  const closedViews = new Map<string, IncidentView>();
  let cached: { at: number; pending: boolean; board: Promise<StatusBoard> } | undefined;
  let lastGood: StatusBoard | undefined;

  async function closedView(id: string): Promise<IncidentView | undefined> {
    const hit = closedViews.get(id);
    if (hit) return hit;
    const view = await o.incidents.get(id).catch(() => undefined);
    if (view && view.closedAt) {
      if (closedViews.size >= maxClosedViews) closedViews.delete(closedViews.keys().next().value!);
      closedViews.set(id, view);
    }
    return view;
  }

  const toIncident = (v: IncidentView): BoardIncident => ({
    id: v.id,
    service: v.service.id,
    component: v.service.component ?? v.service.name,
    severity: v.severity,
    state: v.status[v.status.length - 1]!.state,
    openedAt: v.openedAt,
    ...(v.closedAt ? { closedAt: v.closedAt } : {}),
    messages: v.status,
  });
  const newestFirst = (a: BoardIncident, b: BoardIncident) =>
    Date.parse(b.closedAt ?? b.openedAt) - Date.parse(a.closedAt ?? a.openedAt);

  async function read(): Promise<StatusBoard> {
    const t = now();
    const cutoff = t - historyDays * 24 * 60 * 60 * 1000;
    const summaries = (await o.incidents.list({ limit: o.listLimit ?? 300 })).filter((s) =>
      serviceIds.has(s.service),
    );
    const openViews = await Promise.all(
      summaries.filter((s) => s.running).map((s) => o.incidents.get(s.id).catch(() => undefined)),
    );
    const closed = await Promise.all(
      summaries
        .filter((s) => !s.running && Date.parse(s.closedAt ?? s.openedAt) >= cutoff)
        .map((s) => closedView(s.id)),
    );
    const published = (v: IncidentView | undefined): v is IncidentView => !!v && v.status.length > 0;
    const open = openViews.filter(published).filter((v) => !v.closedAt);
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
      incidents: open.map(toIncident).sort(newestFirst),
      history: [...closed, ...openViews.filter((v) => v?.closedAt)]
        .filter(published)
        .filter((v) => Date.parse(v.closedAt!) >= cutoff)
        .map(toIncident)
        .sort(newestFirst),
    };
    lastGood = board;
    return board;
  }

  return {
    /**
     * The board. Requests that arrive while a read is under way share it (and, with `cacheMs`, for
     * that long after); the last good board, marked stale, when Temporal is unreachable.
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
