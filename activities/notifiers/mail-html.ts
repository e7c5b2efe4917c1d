/**
 * The HTML part of a mail, rendered with Handlebars from the mail's own text (domain/mail-blocks.ts
 * gives its structure), so the HTML and the text say the same from the same facts. Handlebars escapes
 * every `{{value}}` (& < > " ' ` =); no template here uses the unescaped `{{{…}}}` form, so nothing a
 * reporter, a monitor or a service name brings in can become markup. Mobile first: one column of at
 * most 600 px, long URLs and commands wrap, nothing needs horizontal scrolling on a 390 px phone.
 * Inline styles, because many mail clients drop <style>.
 */
import Handlebars from 'handlebars';
import { consolePageOf, mailBlocks, type Block } from '../../domain/mail-blocks.js';

export type MailKind = 'page' | 'resolved' | 'postmortem' | 'notice';

export interface MailHtmlInput {
  kind: MailKind;
  subject: string;
  text: string;
  /** The signed one-click acknowledge link (pages). */
  ackUrl?: string;
  /** The console page the mail is about; otherwise the first console page the text links to. */
  consoleUrl?: string;
}

const look: Record<MailKind, { label: string; accent: string; consoleLabel: string }> = {
  page: { label: 'Page', accent: '#b91c1c', consoleLabel: 'Open the incident in the console' },
  resolved: { label: 'Resolved', accent: '#15803d', consoleLabel: 'Open the timeline in the console' },
  postmortem: { label: 'Postmortem', accent: '#1d4ed8', consoleLabel: 'Open the postmortem in the console' },
  notice: { label: 'Notice', accent: '#4b5563', consoleLabel: 'Open the incident in the console' },
};

const wrap = 'overflow-wrap:anywhere;word-break:break-word;';
const link = `color:#1d4ed8;${wrap}`;

const segs = `{{#each this}}{{#if href}}<a href="{{href}}" style="${link}">{{text}}</a>{{else}}{{#if strong}}<strong>{{text}}</strong>{{else}}{{text}}{{/if}}{{/if}}{{/each}}`;

const block = `{{#each parts}}{{#if heading}}<p style="margin:12px 0 4px;font-weight:bold;${wrap}">{{> segs heading}}</p>{{/if}}{{#if line}}<p style="margin:0 0 4px;${wrap}">{{> segs line}}</p>{{/if}}{{#if list}}<ul style="margin:4px 0 8px;padding-left:20px;">{{#each list}}<li style="margin:0 0 4px;${wrap}">{{> segs this}}</li>{{/each}}</ul>{{/if}}{{#if code}}<pre style="margin:4px 0 8px;padding:8px;background:#f3f4f6;border-radius:4px;font-size:12px;white-space:pre-wrap;word-break:break-all;">{{code}}</pre>{{/if}}{{#if quote}}<p style="margin:4px 0 8px;padding:8px 12px;border-left:4px solid #d1d5db;background:#f9fafb;${wrap}">{{> segs quote}}</p>{{/if}}{{/each}}`;

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f3f4f6;color:#111827;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45;">
<div style="max-width:600px;margin:0 auto;padding:12px;box-sizing:border-box;">
<div data-role="card" style="background:#ffffff;border-top:6px solid {{accent}};border-radius:6px;padding:16px;box-sizing:border-box;">
<p data-role="kind" style="margin:0 0 4px;font-size:12px;font-weight:bold;letter-spacing:.05em;text-transform:uppercase;color:{{accent}};">{{label}}</p>
<h1 style="margin:0 0 12px;font-size:19px;line-height:1.3;${wrap}">{{subject}}</h1>
{{#if ackUrl}}<p style="margin:0 0 12px;"><a data-role="ack" href="{{ackUrl}}" style="display:inline-block;padding:12px 22px;background:{{accent}};color:#ffffff;font-weight:bold;font-size:17px;text-decoration:none;border-radius:6px;">Acknowledge</a></p>{{/if}}
{{#if consoleUrl}}<p style="margin:0 0 12px;"><a data-role="console" href="{{consoleUrl}}" style="display:inline-block;padding:10px 16px;border:2px solid {{accent}};color:{{accent}};font-weight:bold;text-decoration:none;border-radius:6px;${wrap}">{{consoleLabel}}</a></p>{{/if}}
{{#each next}}<div data-role="next" style="margin:0 0 16px;padding:10px 12px;background:#fef3c7;border-left:4px solid #d97706;border-radius:4px;">{{> block this}}</div>{{/each}}
{{#each blocks}}<div style="margin:0 0 12px;">{{> block this}}</div>{{/each}}
</div>
<p style="margin:12px 4px;font-size:12px;color:#6b7280;">Sent by the incident orchestrator. The plain-text part of this mail says the same.</p>
</div>
</body>
</html>
`;

const hbs = Handlebars.create();
hbs.registerPartial('segs', segs);
hbs.registerPartial('block', block);
const template = hbs.compile(page, { knownHelpersOnly: true });

/** The first console page the text links to (an API incident URL turned into its console page). */
function firstConsolePage(blocks: Block[], kind: MailKind): string | undefined {
  const hrefs = blocks.flatMap((b) =>
    b.parts.flatMap((p) => {
      const segsOf =
        'line' in p
          ? [p.line]
          : 'heading' in p
            ? [p.heading]
            : 'quote' in p
              ? [p.quote]
              : 'list' in p
                ? p.list
                : [];
      return segsOf.flat().flatMap((s) => (s.href && /\/console\/incidents\//.test(s.href) ? [s.href] : []));
    }),
  );
  if (kind === 'postmortem')
    return hrefs.find((h) => h.endsWith('/postmortem')) ?? (hrefs[0] ? `${hrefs[0]}/postmortem` : undefined);
  return hrefs.find((h) => !h.endsWith('/postmortem')) ?? hrefs[0];
}

const safeUrl = (u: string | undefined) => (u && /^https?:\/\//i.test(u) ? u : undefined);

/** The mail's HTML part: every value escaped by Handlebars. */
export function renderMailHtml(input: MailHtmlInput): string {
  const blocks = mailBlocks(input.text);
  const next = blocks.filter((b) => b.next);
  const rest = blocks.filter((b) => !b.next);
  const given = safeUrl(input.consoleUrl);
  const consoleUrl = (given && (consolePageOf(given) ?? given)) ?? firstConsolePage(rest, input.kind);
  return template({
    ...look[input.kind],
    subject: input.subject,
    ackUrl: safeUrl(input.ackUrl),
    consoleUrl,
    next,
    blocks: rest,
  });
}

/** Which mail this is, from its idempotency key (workflows/incident.ts, workflows/postmortem.ts). */
export function mailKindOf(mail: { idempotencyKey: string; ackLink?: unknown }): MailKind {
  if (mail.ackLink) return 'page';
  if (/\/resolved\/[^/]+$/.test(mail.idempotencyKey)) return 'resolved';
  if (/\/(draft|invite)$/.test(mail.idempotencyKey)) return 'postmortem';
  return 'notice';
}
