/**
 * Handoff notices: shortly before someone's on-call shift starts (each schedule's `handoffNotice`,
 * default 1 h), they get an email saying from when until when, in the schedule's zone, and whom they
 * take over from. A loop in the worker looks once a minute; every worker may run it: a notice is
 * claimed in the shared sent ledger before it is sent, so it goes out once (and a failed send gives
 * the claim back, so the next look tries again).
 */
import type { Config } from '../domain/config-schema.js';
import { durationMs } from '../domain/duration.js';
import { asSchedule, scheduleZone } from '../domain/oncall.js';
import { describePeriod, formatLocal, nextHandoff, onCallAt } from '../domain/schedule.js';
import type { OutgoingMail, SendResult } from '../activities/notifiers/email.js';
import type { ScheduleRecords } from '../store/schedules.js';

const DAY = 86_400_000;
export const defaultHandoffNoticeMs = 3_600_000;

export interface HandoffNoticeDeps {
  config: Pick<Config, 'contacts' | 'schedules'>;
  schedules: ScheduleRecords;
  email: { send(mail: OutgoingMail): Promise<SendResult> };
  publicBaseUrl?: string;
  workerName?: string;
  log?: (line: string) => void;
}

export interface SentNotice {
  scheduleId: string;
  to: string;
  at: number;
}

export function createHandoffNotices(d: HandoffNoticeDeps) {
  const log = d.log ?? ((l: string) => console.warn(l));
  const contact = (id: string) => d.config.contacts.find((c) => c.id === id);

  /** Sends every notice due at `now` (shifts starting within their schedule's notice time). */
  async function tick(now: number): Promise<SentNotice[]> {
    const sent: SentNotice[] = [];
    const ids = d.config.schedules.map((s) => s.id);
    if (ids.length === 0) return sent;
    const overrides = await d.schedules.overridesFor(ids, now - 31 * DAY, now + 366 * DAY);
    for (const s of d.config.schedules) {
      const lead = s.handoffNotice !== undefined ? durationMs(s.handoffNotice) : defaultHandoffNoticeMs;
      const list = overrides.get(s.id) ?? [];
      const sched = asSchedule(s);
      const tz = scheduleZone(s);
      // Every change within the notice time (a short override may start and end inside it).
      for (let t = now, i = 0; i < 20; i++) {
        const h = nextHandoff(sched, list, t, { horizonMs: lead });
        if (!h || h.at - now > lead) break;
        t = h.at;
        const to = h.to ? contact(h.to) : undefined;
        if (!to) continue;
        const shift = onCallAt(sched, list, h.at);
        const key = `handoff/${s.id}/${h.at}/${to.id}`;
        if (!(await d.schedules.claimNotice(key, d.workerName))) continue;
        const from = h.from ? (contact(h.from)?.name ?? h.from) : undefined;
        const period = describePeriod({ start: h.at, end: shift?.shiftEnd ?? h.at }, tz);
        try {
          await d.email.send({
            idempotencyKey: key,
            to: [{ name: to.name, email: to.email }],
            subject: `You are on call from ${formatLocal(h.at, tz)} (${tz}): ${s.name}`,
            text:
              `Hello ${to.name},\n\n` +
              `your on-call shift in ${s.name} starts ${formatLocal(h.at, tz)} (${tz}) and runs ${period}.\n` +
              (from ? `You take over from ${from}.\n` : 'Nobody is on call just before you.\n') +
              `Incident pages for ${s.name} go to you during the shift.\n\n` +
              (d.publicBaseUrl ? `Who is on call and your shifts: ${d.publicBaseUrl}/console/oncall\n` : ''),
          });
          sent.push({ scheduleId: s.id, to: to.id, at: h.at });
        } catch (e) {
          await d.schedules.releaseNotice(key).catch(() => undefined);
          log(
            `handoff notice to ${to.id} for ${s.id} not sent (tried again in a minute): ${(e as Error).message}`,
          );
        }
      }
    }
    return sent;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    tick,
    /** Looks every `everyMs` (default a minute) until `stop()`. */
    start(everyMs = 60_000) {
      const run = () => {
        running = tick(Date.now()).catch((e: unknown) =>
          log(`handoff notices: ${(e as Error).message} (tried again in a minute)`),
        );
      };
      run();
      timer = setInterval(run, everyMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
