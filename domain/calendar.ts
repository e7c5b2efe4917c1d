/**
 * Working-day arithmetic in a time zone, and RFC 5545 invitations. Pure: no I/O, no Node built-ins, no
 * clock (times come in as arguments), because workflow code calls it. Zone offsets come from
 * `Intl.DateTimeFormat`, so any IANA zone works without a time-zone library.
 */

/** `YYYY-MM-DD`, a date on the wall calendar of some zone. */
export type LocalDate = string;

/** The working week of a service: Monday to Friday within working hours, minus holidays. */
export interface WorkingCalendar {
  timeZone: string;
  /** Local `HH:MM`, inclusive. */
  workStart: string;
  /** Local `HH:MM`: a meeting must end by then. */
  workEnd: string;
  /** Local dates that are not working days. */
  holidays: readonly LocalDate[];
}

export interface LocalTime {
  date: LocalDate;
  /** Minutes after local midnight. */
  minutes: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** `HH:MM` → minutes after midnight. Throws on anything else. */
export function parseClock(hhmm: string): number {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(hhmm);
  if (!m) throw new Error(`invalid time of day "${hhmm}" (expected HH:MM)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Whether `s` is a real calendar date written `YYYY-MM-DD` (not 2026-02-30). */
export function isLocalDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === s;
}

/** The date `n` calendar days after `date` (negative: before). */
export function addDays(date: LocalDate, n: number): LocalDate {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(date: LocalDate): number {
  return new Date(Date.parse(`${date}T00:00:00Z`)).getUTCDay();
}

/** Reads wall-clock time in one zone; build once per zone and reuse. */
export interface Zone {
  timeZone: string;
  /** The wall-clock time in the zone at a UTC instant. */
  local(utcMs: number): LocalTime;
  /** Milliseconds the zone is ahead of UTC at a UTC instant (Oslo in summer: +7 200 000). */
  offset(utcMs: number): number;
  /** The UTC instant of a local date and time. In a DST gap the later offset applies. */
  utc(date: LocalDate, minutes: number): number;
}

export function zone(timeZone: string): Zone {
  // Throws a RangeError for an unknown zone, which is what a caller should see.
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const fields = (utcMs: number) => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(new Date(utcMs))) {
      if (part.type !== 'literal') p[part.type] = Number(part.value);
    }
    return p as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
  };
  const offset = (utcMs: number) => {
    const f = fields(utcMs);
    const wall = Date.UTC(f.year, f.month - 1, f.day, f.hour % 24, f.minute, f.second);
    return wall - (utcMs - (((utcMs % 1000) + 1000) % 1000));
  };
  return {
    timeZone,
    offset,
    local(utcMs) {
      const wall = utcMs + offset(utcMs);
      const d = new Date(wall);
      return {
        date: d.toISOString().slice(0, 10),
        minutes: d.getUTCHours() * 60 + d.getUTCMinutes(),
        weekday: d.getUTCDay(),
      };
    },
    utc(date, minutes) {
      const wall = Date.parse(`${date}T00:00:00Z`) + minutes * MINUTE;
      // The offset at the guess, then at the corrected instant: exact except inside a DST gap.
      const first = wall - offset(wall);
      const second = wall - offset(first);
      return second === first ? first : Math.max(first, second);
    },
  };
}

/** Saturday, Sunday and the calendar's holidays are not working days. */
export function isWorkingDay(date: LocalDate, cal: Pick<WorkingCalendar, 'holidays'>): boolean {
  const wd = weekdayOf(date);
  return wd !== 0 && wd !== 6 && !cal.holidays.includes(date);
}

/** The first working day after `date`. */
export function nextWorkingDay(date: LocalDate, cal: Pick<WorkingCalendar, 'holidays'>): LocalDate {
  let d = addDays(date, 1);
  // A year of holidays in a row is a configuration mistake, not a reason to loop forever.
  for (let i = 0; i < 366 && !isWorkingDay(d, cal); i++) d = addDays(d, 1);
  return d;
}

export interface MeetingOptions {
  /** Whole working days after the moment (0: the first slot that fits). */
  delayWorkingDays: number;
  durationMs: number;
  /** Start times are rounded up to this many minutes. Default 15. */
  slotMinutes?: number;
}

export interface Slot {
  /** UTC milliseconds. */
  start: number;
  end: number;
  /** The local date and start time, for people. */
  local: { date: LocalDate; time: string; timeZone: string };
}

const clock = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/**
 * A meeting `delayWorkingDays` working days after `fromUtcMs`, counted in working time: a moment
 * outside working hours counts as the start of the next working day; the time of day is kept; if the
 * meeting would not end within working hours that day, it moves to the start of the next working day.
 * Friday 14:40 with one day's delay and Monday a holiday → Tuesday 14:45.
 */
export function scheduleMeeting(fromUtcMs: number, cal: WorkingCalendar, o: MeetingOptions): Slot {
  const z = zone(cal.timeZone);
  const start = parseClock(cal.workStart);
  const end = parseClock(cal.workEnd);
  const slot = o.slotMinutes ?? 15;
  const length = Math.ceil(o.durationMs / MINUTE);

  const at = z.local(fromUtcMs);
  let date = at.date;
  // Rounded up to the minute: a meeting never starts before the moment it is counted from.
  let minutes = at.minutes + (((fromUtcMs % MINUTE) + MINUTE) % MINUTE > 0 ? 1 : 0);
  if (!isWorkingDay(date, cal) || minutes >= end) {
    date = nextWorkingDay(date, cal);
    minutes = start;
  } else if (minutes < start) {
    minutes = start;
  }
  for (let i = 0; i < o.delayWorkingDays; i++) date = nextWorkingDay(date, cal);
  minutes = Math.ceil(minutes / slot) * slot;
  if (minutes + length > end) {
    date = nextWorkingDay(date, cal);
    minutes = start;
  }
  const utcStart = z.utc(date, minutes);
  return {
    start: utcStart,
    end: utcStart + length * MINUTE,
    local: { date, time: clock(minutes), timeZone: cal.timeZone },
  };
}

/** The local date `days` calendar days after the local date of `fromUtcMs`. */
export function localDateAfter(fromUtcMs: number, days: number, timeZone: string): LocalDate {
  return addDays(zone(timeZone).local(fromUtcMs).date, days);
}

/** The UTC instant a local date ends (the next local midnight). */
export function endOfLocalDay(date: LocalDate, timeZone: string): number {
  return zone(timeZone).utc(addDays(date, 1), 0);
}

/** The UTC instant working hours start on a local date. */
export function startOfWorkingDay(
  date: LocalDate,
  cal: Pick<WorkingCalendar, 'timeZone' | 'workStart'>,
): number {
  return zone(cal.timeZone).utc(date, parseClock(cal.workStart));
}

// ---------------------------------------------------------------------------------------------
// RFC 5545

export interface CalendarPerson {
  name: string;
  email: string;
}

export interface Invitation {
  /** Stable per meeting: a re-sent invitation updates the same event. */
  uid: string;
  /** Raise it when the meeting changes. */
  sequence?: number;
  /** When the invitation was made (UTC ms). */
  stamp: number;
  start: number;
  end: number;
  summary: string;
  description?: string;
  location?: string;
  url?: string;
  organizer: CalendarPerson;
  attendees: readonly (CalendarPerson & { role?: 'CHAIR' | 'REQ-PARTICIPANT' | 'OPT-PARTICIPANT' })[];
  /** PRODID; defaults to this project's. */
  productId?: string;
  /** REQUEST (default: invite or update, by SEQUENCE) or CANCEL (the event is called off). */
  method?: 'REQUEST' | 'CANCEL';
}

/** A meeting's local date and time in its zone (what the mails say next to UTC). */
export function localSlot(
  utcMs: number,
  timeZone: string,
): { date: LocalDate; time: string; timeZone: string } {
  const at = zone(timeZone).local(utcMs);
  return { date: at.date, time: clock(at.minutes), timeZone };
}

/** `20260526T124500Z` */
export function icsUtc(utcMs: number): string {
  return new Date(utcMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** A TEXT value: backslash, semicolon and comma escaped, line breaks as `\n` (RFC 5545 §3.3.11). */
export function escapeText(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/** A parameter value (CN=…): quoted when it holds `:`, `;` or `,`; DQUOTE and controls cannot appear. */
export function paramValue(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/["\u0000-\u001f\u007f]/g, '').trim();
  return /[:;,]/.test(clean) ? `"${clean}"` : clean;
}

const utf8Length = (ch: string): number => {
  const cp = ch.codePointAt(0)!;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
};

/**
 * Folds a content line so no line exceeds 75 octets of UTF-8 (RFC 5545 §3.1): continuation lines start
 * with a space, which counts; a multi-byte character is never split.
 */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const n = utf8Length(ch);
    if (octets + n > 75) {
      out.push(current);
      current = ' ';
      octets = 1;
    }
    current += ch;
    octets += n;
  }
  out.push(current);
  return out.join('\r\n');
}

const mailto = (email: string) => `mailto:${email.replace(/[\s"<>]/g, '')}`;

/** An iCalendar invitation (METHOD:REQUEST) with one event, times in UTC, CRLF line ends, folded. */
export function buildInvitation(inv: Invitation): string {
  const lines = [
    'BEGIN:VCALENDAR',
    `PRODID:${inv.productId ?? '-//incident-orchestrator//postmortem//EN'}`,
    'VERSION:2.0',
    'CALSCALE:GREGORIAN',
    `METHOD:${inv.method ?? 'REQUEST'}`,
    'BEGIN:VEVENT',
    `UID:${inv.uid}`,
    `SEQUENCE:${inv.sequence ?? 0}`,
    `DTSTAMP:${icsUtc(inv.stamp)}`,
    `DTSTART:${icsUtc(inv.start)}`,
    `DTEND:${icsUtc(inv.end)}`,
    `SUMMARY:${escapeText(inv.summary)}`,
    ...(inv.description !== undefined ? [`DESCRIPTION:${escapeText(inv.description)}`] : []),
    ...(inv.location !== undefined ? [`LOCATION:${escapeText(inv.location)}`] : []),
    ...(inv.url !== undefined ? [`URL:${inv.url}`] : []),
    `ORGANIZER;CN=${paramValue(inv.organizer.name)}:${mailto(inv.organizer.email)}`,
    ...inv.attendees.map(
      (a) =>
        `ATTENDEE;CN=${paramValue(a.name)};CUTYPE=INDIVIDUAL;ROLE=${a.role ?? 'REQ-PARTICIPANT'};` +
        `PARTSTAT=NEEDS-ACTION;RSVP=TRUE:${mailto(a.email)}`,
    ),
    inv.method === 'CANCEL' ? 'STATUS:CANCELLED' : 'STATUS:CONFIRMED',
    'TRANSP:OPAQUE',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}
