/**
 * On-call schedules for the API and the console: who is on call now and next, a schedule's computed
 * shifts with its overrides, overrides made and deleted by staff, and a person's shifts as an
 * iCalendar feed (ical-generator, with the zone's VTIMEZONE from @touch4it/ical-timezones).
 * Schedules come from the config, overrides from the record store; evaluation is domain/oncall.ts.
 */
import ical from 'ical-generator';
import { getVtimezoneComponent } from '@touch4it/ical-timezones';
import type { Config, ScheduleConfig } from '../domain/config-schema.js';
import {
  policyOnCall,
  scheduleById,
  scheduleOnCall,
  scheduleZone,
  shiftViews,
  type PolicyLevelOnCall,
  type ScheduleOnCall,
  type ShiftView,
} from '../domain/oncall.js';
import { validateOverride } from '../domain/schedule.js';
import { zone } from '../domain/calendar.js';
import type { ScheduleRecords, StoredOverride } from '../store/schedules.js';
import type { CalendarLinks } from './calendar-links.js';
import { HttpError, notFound } from './errors.js';

const DAY = 86_400_000;
/** How far a schedule view reaches at most. */
const maxRangeDays = 93;
/** The personal feed: the shifts of the next four weeks (and the one running now). */
export const feedDays = 28;

const storeDown = (e: unknown) =>
  new HttpError(503, 'store_unavailable', `the record store did not answer: ${(e as Error).message}`);

/** An instant → its wall time in the zone, `YYYY-MM-DDTHH:MM:SS` (iCalendar's local time with TZID). */
function wallTime(ms: number, timeZone: string): string {
  return new Date(ms + zone(timeZone).offset(ms)).toISOString().slice(0, 19);
}

export interface OnCallOverview {
  at: string;
  schedules: ScheduleOnCall[];
  policies: { id: string; levels: PolicyLevelOnCall[] }[];
}

export interface ScheduleView {
  id: string;
  name: string;
  timeZone: string;
  from: string;
  to: string;
  shifts: ShiftView[];
  overrides: StoredOverride[];
}

export interface OnCallServiceOptions {
  config: Config;
  schedules: ScheduleRecords;
  /** Signs and checks calendar feed links (ACK_LINK_SECRET); unset → no feeds. */
  calendarLinks?: CalendarLinks;
}

export function createOnCallService(o: OnCallServiceOptions) {
  const contacts = o.config.contacts.map((c) => c.id);
  const allIds = o.config.schedules.map((s) => s.id);
  const scheduleOf = (id: string): ScheduleConfig => {
    const s = scheduleById(o.config, id);
    if (!s) throw notFound(`schedule "${id}"`);
    return s;
  };
  const overrides = async (ids: string[], from: number, to: number) => {
    try {
      return await o.schedules.overridesFor(ids, from, to);
    } catch (e) {
      throw storeDown(e);
    }
  };

  return {
    calendarLinks: o.calendarLinks,

    /** Whether a contact id is in the config (a feed link of a removed contact shows nothing). */
    knows: (contactId: string) => contacts.includes(contactId),

    list: () => o.config.schedules.map((s) => ({ id: s.id, name: s.name, timeZone: scheduleZone(s) })),

    /** Now and next per schedule and per policy level, at one instant. */
    async overview(now: number): Promise<OnCallOverview> {
      const list = await overrides(allIds, now - 31 * DAY, now + 366 * DAY);
      const of = (id: string) => list.get(id) ?? [];
      return {
        at: new Date(now).toISOString(),
        schedules: o.config.schedules.map((s) => scheduleOnCall(o.config, s, of(s.id), now)),
        policies: o.config.policies.map((p) => ({ id: p.id, levels: policyOnCall(o.config, p.id, of, now) })),
      };
    },

    /** The computed shifts of a period (default: two weeks from now), overrides included. */
    async view(id: string, q: { from?: string; to?: string }, now = Date.now()): Promise<ScheduleView> {
      const s = scheduleOf(id);
      const from = q.from ? Date.parse(q.from) : now;
      if (!Number.isFinite(from))
        throw new HttpError(400, 'invalid_request', 'from: not a date-time', 'from');
      const to = q.to ? Date.parse(q.to) : from + 14 * DAY;
      if (!Number.isFinite(to)) throw new HttpError(400, 'invalid_request', 'to: not a date-time', 'to');
      if (to <= from) throw new HttpError(400, 'invalid_request', 'to: must be after from', 'to');
      if (to - from > maxRangeDays * DAY)
        throw new HttpError(400, 'invalid_request', `to: at most ${maxRangeDays} days after from`, 'to');
      const list = (await overrides([s.id], from, to)).get(s.id) ?? [];
      return {
        id: s.id,
        name: s.name,
        timeZone: scheduleZone(s),
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        shifts: shiftViews(o.config, s, list, from, to),
        overrides: list,
      };
    },

    /** Validates and stores an override; HttpError 400 naming the field for bad input. */
    async createOverride(scheduleId: string, body: Record<string, unknown>, actor: string, now = Date.now()) {
      scheduleOf(scheduleId);
      const issues = validateOverride(body, contacts, '', now);
      const first = issues[0];
      if (first) throw new HttpError(400, 'invalid_request', `${first.path}: ${first.message}`, first.path);
      try {
        return await o.schedules.addOverride({
          scheduleId,
          from: new Date(Date.parse(body.from as string)).toISOString(),
          until: new Date(Date.parse(body.until as string)).toISOString(),
          by: body.by as string,
          ...(typeof body.replaces === 'string' ? { replaces: body.replaces } : {}),
          createdBy: actor,
        });
      } catch (e) {
        throw storeDown(e);
      }
    },

    /** 404 when there is no such override. */
    async deleteOverride(scheduleId: string, overrideId: string): Promise<void> {
      scheduleOf(scheduleId);
      let deleted: boolean;
      try {
        deleted = await o.schedules.deleteOverride(scheduleId, overrideId);
      } catch (e) {
        throw storeDown(e);
      }
      if (!deleted) throw notFound(`override "${overrideId}" of schedule "${scheduleId}"`);
    },

    /** Every shift of one person in the next four weeks, across schedules, as iCalendar text. */
    async feed(contactId: string, now = Date.now()): Promise<string> {
      const name = o.config.contacts.find((c) => c.id === contactId)?.name ?? contactId;
      const cal = ical({ name: `On call: ${name}`, ttl: 3600 });
      const zones = new Set<string>();
      const from = now - 35 * DAY;
      const to = now + (feedDays + 35) * DAY;
      const list = await overrides(allIds, from, to);
      for (const s of o.config.schedules) {
        const tz = scheduleZone(s);
        // Whole shifts: computed over a wider window, then kept where they overlap the feed's.
        for (const sh of shiftViews(o.config, s, list.get(s.id) ?? [], from, to)) {
          const start = Date.parse(sh.start);
          const end = Date.parse(sh.end);
          if (sh.contactId !== contactId || end <= now || start >= now + feedDays * DAY) continue;
          zones.add(tz);
          cal.createEvent({
            id: `${s.id}-${contactId}-${start}@oncall`,
            start: wallTime(start, tz),
            end: wallTime(end, tz),
            timezone: tz,
            summary: `On call: ${s.name}${sh.source === 'override' ? ' (override)' : ''}`,
            description: `${name} is on call in ${s.name} (${s.id}) until ${sh.end} UTC.`,
          });
        }
      }
      // ical-generator writes one VTIMEZONE: the zone of the person's schedules (usually one).
      const [tz] = zones;
      if (tz) cal.timezone({ name: tz, generator: getVtimezoneComponent });
      return cal.toString();
    },
  };
}

export type OnCallService = ReturnType<typeof createOnCallService>;
