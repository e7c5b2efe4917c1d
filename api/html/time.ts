/**
 * Times as people read them on the pages: UTC (what the timeline and the postmortem use) beside the
 * local time in Norway, where the users are.
 */
export const localZone = 'Europe/Oslo';

const osloParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: localZone,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function parts(d: Date): { date: string; time: string } {
  const p = Object.fromEntries(osloParts.formatToParts(d).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

export interface ShownTime {
  /** `2022-05-10 07:49 UTC` */
  utc: string;
  /** `09:49`, or `2022-05-11 01:10` when the date in Oslo differs from the UTC date. */
  local: string;
  iso: string;
}

/** Undefined for a missing or unparseable time. */
export function showTime(iso: string | undefined): ShownTime | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return undefined;
  const d = new Date(t);
  const utcDate = d.toISOString().slice(0, 10);
  const local = parts(d);
  return {
    utc: `${utcDate} ${d.toISOString().slice(11, 16)} UTC`,
    local: local.date === utcDate ? local.time : `${local.date} ${local.time}`,
    iso: d.toISOString(),
  };
}

/** `1 h 5 min`, `2 min 30 s`, `45 s` (negative → `0 s`). */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${sec} s`;
  return `${sec} s`;
}
