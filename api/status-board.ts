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
import type { IncidentView, StatusMessage, StatusState } from '../domain/incident.js';
import type { Records } from '../store/records.js';

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
  /** True when the record store could not be reached and this is the last board read. */
  stale: boolean;
  historyDays: number;
  components: BoardComponent[];
  /** Open incidents with at least one published message, newest first. */
  incidents: BoardIncident[];
  /** Closed incidents of the last `historyDays` with a published message, newest first. */
  history: BoardIncident[];
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
      incidents: open.map(toIncident).sort(newestFirst),
      history: views
        .filter((v) => v.closedAt)
        .map(toIncident)
        .sort(newestFirst),
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
