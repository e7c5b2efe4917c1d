import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import ICAL from 'ical.js';
import {
  addDays,
  buildInvitation,
  endOfLocalDay,
  escapeText,
  foldLine,
  icsUtc,
  isLocalDate,
  isWorkingDay,
  localDateAfter,
  parseClock,
  scheduleMeeting,
  zone,
  type Invitation,
  type WorkingCalendar,
} from '../../domain/calendar.js';

const oslo: WorkingCalendar = {
  timeZone: 'Europe/Oslo',
  workStart: '09:00',
  workEnd: '16:00',
  holidays: ['2026-05-25'], // Whit Monday
};
const hour = 3_600_000;

describe('zone', () => {
  it.each([
    ['Europe/Oslo', '2026-01-15T12:00:00Z', 1],
    ['Europe/Oslo', '2026-07-15T12:00:00Z', 2],
    ['America/New_York', '2026-01-15T12:00:00Z', -5],
    ['America/New_York', '2026-07-15T12:00:00Z', -4],
    ['Asia/Kolkata', '2026-07-15T12:00:00Z', 5.5],
    ['UTC', '2026-07-15T12:00:00Z', 0],
    ['Australia/Lord_Howe', '2026-01-15T12:00:00Z', 11],
  ])('%s at %s is UTC%+d', (tz, at, hours) => {
    expect(zone(tz).offset(Date.parse(at))).toBe(hours * hour);
  });

  it.each([
    // Oslo's spring and autumn changes: the same 09:00 is 08:00Z in winter, 07:00Z in summer.
    ['2026-03-28', 9 * 60, '2026-03-28T08:00:00.000Z'],
    ['2026-03-29', 9 * 60, '2026-03-29T07:00:00.000Z'],
    ['2026-10-24', 9 * 60, '2026-10-24T07:00:00.000Z'],
    ['2026-10-25', 9 * 60, '2026-10-25T08:00:00.000Z'],
    ['2026-03-29', 0, '2026-03-28T23:00:00.000Z'],
    // 02:30 does not exist on 2026-03-29: the later offset applies (03:30 CEST).
    ['2026-03-29', 150, '2026-03-29T01:30:00.000Z'],
  ])('Oslo %s %i min → %s', (date, minutes, utc) => {
    const z = zone('Europe/Oslo');
    expect(new Date(z.utc(date, minutes)).toISOString()).toBe(utc);
  });

  it('round-trips every quarter hour of a year in Oslo (outside the spring gap)', () => {
    const z = zone('Europe/Oslo');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 96 }), (q) => {
        const t = Date.parse('2026-01-01T00:00:00Z') + q * 15 * 60_000;
        const l = z.local(t);
        // In the autumn overlap a local time names two instants; the conversion picks one of them.
        expect(z.local(z.utc(l.date, l.minutes))).toEqual(l);
      }),
    );
  });

  it('rejects an unknown zone', () => {
    expect(() => zone('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('dates', () => {
  it.each([
    ['2026-05-25', true],
    ['2024-02-29', true],
    ['2026-02-29', false],
    ['2026-02-30', false],
    ['2026-13-01', false],
    ['2026-5-1', false],
    ['tomorrow', false],
  ])('isLocalDate(%s) = %s', (s, ok) => expect(isLocalDate(s)).toBe(ok));

  it('counts due dates in the zone, and days end at local midnight', () => {
    // 23:30Z on 31 Dec is already 1 Jan in Oslo.
    expect(localDateAfter(Date.parse('2026-12-31T23:30:00Z'), 3, 'Europe/Oslo')).toBe('2027-01-04');
    expect(localDateAfter(Date.parse('2026-12-31T23:30:00Z'), 3, 'UTC')).toBe('2027-01-03');
    expect(new Date(endOfLocalDay('2026-05-25', 'Europe/Oslo')).toISOString()).toBe(
      '2026-05-25T22:00:00.000Z',
    );
  });

  it('knows weekends and holidays', () => {
    expect(isWorkingDay('2026-05-22', oslo)).toBe(true); // Friday
    expect(isWorkingDay('2026-05-23', oslo)).toBe(false);
    expect(isWorkingDay('2026-05-24', oslo)).toBe(false);
    expect(isWorkingDay('2026-05-25', oslo)).toBe(false); // the holiday
    expect(isWorkingDay('2026-05-26', oslo)).toBe(true);
  });

  it('parses clock times', () => {
    expect(parseClock('09:00')).toBe(540);
    expect(parseClock('23:59')).toBe(1439);
    expect(() => parseClock('9:00')).toThrow(/HH:MM/);
    expect(() => parseClock('24:00')).toThrow(/HH:MM/);
  });
});

describe('scheduleMeeting', () => {
  const cases: [string, string, Partial<WorkingCalendar>, number, string, string][] = [
    [
      'Friday afternoon, Monday a holiday: Tuesday at the same time, rounded to the quarter',
      '2026-05-22T12:40:00Z',
      {},
      1,
      '2026-05-26T12:45:00.000Z',
      '2026-05-26 14:45',
    ],
    [
      'the same without the holiday: Monday',
      '2026-05-22T12:40:00Z',
      { holidays: [] },
      1,
      '2026-05-25T12:45:00.000Z',
      '2026-05-25 14:45',
    ],
    [
      'too late in the day for the meeting to end within hours: the next morning',
      '2026-05-22T13:20:00Z',
      {},
      1,
      '2026-05-27T07:00:00.000Z',
      '2026-05-27 09:00',
    ],
    [
      'after hours counts as the next working morning',
      '2026-05-22T15:30:00Z',
      {},
      1,
      '2026-05-27T07:00:00.000Z',
      '2026-05-27 09:00',
    ],
    [
      'on a weekend with no delay: the first working morning',
      '2026-05-23T08:00:00Z',
      { holidays: [] },
      0,
      '2026-05-25T07:00:00.000Z',
      '2026-05-25 09:00',
    ],
    [
      'early morning: from the start of working hours',
      '2026-05-26T04:00:00Z',
      {},
      2,
      '2026-05-28T07:00:00.000Z',
      '2026-05-28 09:00',
    ],
    [
      'across the spring clock change: the same local time, one hour less UTC offset',
      '2026-03-27T09:00:00Z',
      { holidays: [] },
      2,
      '2026-03-31T08:00:00.000Z',
      '2026-03-31 10:00',
    ],
    [
      'Christmas holidays',
      '2026-12-23T10:00:00Z',
      { holidays: ['2026-12-24', '2026-12-25', '2026-12-31', '2027-01-01'] },
      1,
      '2026-12-28T10:00:00.000Z',
      '2026-12-28 11:00',
    ],
    [
      'another zone and other hours',
      '2026-11-27T19:00:00Z',
      { timeZone: 'America/New_York', workStart: '08:30', workEnd: '17:00', holidays: [] },
      1,
      '2026-11-30T19:00:00.000Z',
      '2026-11-30 14:00',
    ],
  ];

  it.each(cases)('%s', (_label, from, cal, delay, start, local) => {
    const s = scheduleMeeting(
      Date.parse(from),
      { ...oslo, ...cal },
      { delayWorkingDays: delay, durationMs: hour },
    );
    expect(new Date(s.start).toISOString()).toBe(start);
    expect(s.end - s.start).toBe(hour);
    expect(`${s.local.date} ${s.local.time}`).toBe(local);
  });

  it('always lands on a working day, within working hours, on a quarter hour, after the moment', () => {
    const holidays = ['2026-05-25', '2026-05-14', '2026-12-24', '2026-12-25'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
        fc.integer({ min: 0, max: 5 }),
        fc.constantFrom(15, 30, 60, 90, 120),
        fc.constantFrom('Europe/Oslo', 'America/New_York', 'Asia/Tokyo', 'UTC'),
        (from, delay, minutes, timeZone) => {
          const cal = { ...oslo, timeZone, holidays };
          const s = scheduleMeeting(from, cal, { delayWorkingDays: delay, durationMs: minutes * 60_000 });
          const l = zone(timeZone).local(s.start);
          expect(isWorkingDay(l.date, cal)).toBe(true);
          expect(l.minutes).toBeGreaterThanOrEqual(9 * 60);
          expect(l.minutes + minutes).toBeLessThanOrEqual(16 * 60);
          expect(l.minutes % 15).toBe(0);
          expect(s.start).toBeGreaterThanOrEqual(from);
          // At least `delay` working days lie between: the meeting is never earlier than promised.
          const fromDate = zone(timeZone).local(from).date;
          let days = 0;
          for (let d = addDays(fromDate, 1); d < l.date; d = addDays(d, 1)) if (isWorkingDay(d, cal)) days++;
          expect(days).toBeGreaterThanOrEqual(delay - 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('iCalendar invitation', () => {
  const invitation: Invitation = {
    uid: 'postmortem-fs-canvas.0b3c5e9e-7d7e-4b8e-9d1a-2f9b6f0c1a11@incident-orchestrator',
    stamp: Date.parse('2026-05-22T12:41:00Z'),
    start: Date.parse('2026-05-26T12:45:00Z'),
    end: Date.parse('2026-05-26T13:45:00Z'),
    summary: 'Postmortem: FS → Canvas integration (P1) — SSH refused; export, late',
    description:
      'Postmortem of incident fs-canvas.0b3c, owned by Kari Nordmann.\nBlåbærsyltetøy: æøå ÆØÅ 🧯 ' +
      'a long line that must be folded because it goes on and on past seventy-five octets, with \\ and ;',
    url: 'http://localhost:3000/api/incidents/fs-canvas/postmortem',
    organizer: { name: 'Kari Nordmann', email: 'kari@uni.example' },
    attendees: [
      { name: 'Kari Nordmann', email: 'kari@uni.example', role: 'CHAIR' },
      { name: 'Berg, Per: service desk', email: 'per@uni.example' },
      { name: 'Ola "the PO" Hansen', email: 'ola@uni.example' },
    ],
  };
  const ics = buildInvitation(invitation);

  it('uses CRLF line ends and folds every line at 75 octets without splitting a character', () => {
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = ics.split('\r\n').slice(0, -1);
    for (const line of lines) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    expect(lines.some((l) => l.startsWith(' '))).toBe(true);
    expect(ics).not.toContain('\uFFFD');
    // Unfolding gives back the logical lines.
    const unfolded = ics.replace(/\r\n /g, '');
    expect(unfolded).toContain(`DESCRIPTION:${escapeText(invitation.description!)}\r\n`);
  });

  it('folds by octets: multi-byte characters count for what they weigh', () => {
    const line = `X:${'æ'.repeat(80)}`;
    const folded = foldLine(line).split('\r\n');
    expect(Buffer.byteLength(folded[0]!, 'utf8')).toBeLessThanOrEqual(75);
    for (const l of folded) expect(Buffer.byteLength(l, 'utf8')).toBeLessThanOrEqual(75);
    expect(folded.map((l, i) => (i === 0 ? l : l.slice(1))).join('')).toBe(line);
    expect(foldLine('SHORT:x')).toBe('SHORT:x');
  });

  it('escapes text values', () => {
    expect(escapeText('a\\b;c,d\ne\r\nf')).toBe('a\\\\b\\;c\\,d\\ne\\nf');
  });

  it('says METHOD:REQUEST, times in UTC, organizer and attendees', () => {
    expect(ics).toContain('METHOD:REQUEST\r\n');
    expect(ics).toContain('DTSTART:20260526T124500Z\r\n');
    expect(ics).toContain('DTEND:20260526T134500Z\r\n');
    expect(ics).toContain(`DTSTAMP:${icsUtc(invitation.stamp)}\r\n`);
    expect(icsUtc(invitation.start)).toBe('20260526T124500Z');
    expect(ics.replace(/\r\n /g, '')).toContain('ORGANIZER;CN=Kari Nordmann:mailto:kari@uni.example\r\n');
  });

  it('parses with a real iCalendar parser (ical.js) into what was meant', () => {
    const cal = new ICAL.Component(ICAL.parse(ics));
    expect(cal.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(cal.getFirstPropertyValue('version')).toBe('2.0');
    const event = new ICAL.Event(cal.getFirstSubcomponent('vevent')!);
    expect(event.uid).toBe(invitation.uid);
    expect(event.summary).toBe(invitation.summary);
    expect(event.description).toBe(invitation.description);
    expect(event.startDate.toJSDate().toISOString()).toBe('2026-05-26T12:45:00.000Z');
    expect(event.startDate.zone.tzid).toBe('UTC');
    expect(event.endDate.toJSDate().toISOString()).toBe('2026-05-26T13:45:00.000Z');
    expect(event.organizer).toBe('mailto:kari@uni.example');
    const attendees = event.attendees.map((a) => [
      a.getFirstValue(),
      a.getParameter('cn'),
      a.getParameter('role'),
    ]);
    expect(attendees).toEqual([
      ['mailto:kari@uni.example', 'Kari Nordmann', 'CHAIR'],
      ['mailto:per@uni.example', 'Berg, Per: service desk', 'REQ-PARTICIPANT'],
      ['mailto:ola@uni.example', 'Ola the PO Hansen', 'REQ-PARTICIPANT'],
    ]);
  });
});

describe('purity', () => {
  it.each(['domain/calendar.ts', 'domain/changes.ts'])(
    '%s has no I/O, Node built-ins or clock',
    async (file) => {
      const src = await readFile(new URL(`../../${file}`, import.meta.url), 'utf8');
      expect(src).not.toMatch(/from '(node:|fs|path|os|crypto)/);
      expect(src).not.toMatch(/Date\.now\(|new Date\(\)|Math\.random\(/);
    },
  );
});
