/**
 * Email through the worker's mail transport (SMTP or the outbox): the page text with its signed
 * one-click acknowledge link, and the same as HTML. A mail the workflow wrote whole (`message.mail`)
 * goes as it is, exactly as `sendEmail` sends it. The transport's own failures already follow the
 * Notifier contract.
 */
import { misconfigured } from '../http.js';
import { renderMailHtml } from '../mail-html.js';
import { insertAckUrl } from '../../../domain/templates.js';
import type { ChannelDeps, ChannelNotifier } from '../types.js';

export function createEmailChannel(deps: ChannelDeps): ChannelNotifier {
  return {
    async send(m) {
      if (!deps.email) throw misconfigured('email: this worker has no mail transport');
      if (m.mail) {
        // A mail the workflow wrote whole: sent as `sendEmail` sends it (same text, same HTML).
        const text = m.ackUrl ? insertAckUrl(m.page.text, m.ackUrl) : m.page.text;
        const r = await deps.email.send({
          idempotencyKey: m.idempotencyKey,
          to: m.mail.to ?? [{ name: m.recipient.name, email: m.to }],
          subject: m.mail.subject,
          text,
          ...(m.mail.attachments ? { attachments: m.mail.attachments } : {}),
          ...(m.mail.headers ? { headers: m.mail.headers } : {}),
          html: renderMailHtml({ kind: m.mail.kind, subject: m.mail.subject, text, ackUrl: m.ackUrl }),
        });
        return { messageId: r.messageId, duplicate: r.duplicate, status: 'accepted' };
      }
      const text = m.ackUrl ? `${m.page.text}\n\nAcknowledge: ${m.ackUrl}\n` : m.page.text;
      const r = await deps.email.send({
        idempotencyKey: m.idempotencyKey,
        to: [{ name: m.recipient.name, email: m.to }],
        subject: `[${m.page.severity}] ${m.page.title}`,
        text: m.page.consoleUrl ? `${text}\n${m.page.consoleUrl}\n` : text,
        // Multipart: the same page as HTML, with the acknowledge button and the console link.
        html: renderMailHtml({
          kind: 'page',
          subject: `[${m.page.severity}] ${m.page.title}`,
          text: m.page.text,
          ackUrl: m.ackUrl,
          consoleUrl: m.page.consoleUrl,
        }),
      });
      return { messageId: r.messageId, duplicate: r.duplicate, status: 'accepted' };
    },
    close() {},
  };
}
