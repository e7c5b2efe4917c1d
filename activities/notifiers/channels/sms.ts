/**
 * SMS through any HTTP gateway: one configured request (`channels.sms`: method, URL, headers, body
 * template, secret from `secretEnv`) that fits SMSEagle, the Android SMS-gateway apps and Twilio's
 * form API. The text is GSM-7 and one segment when title and link fit; the result states the count.
 */
import { smsEncoding, smsText, renderTemplate } from '../../../domain/channels.js';
import { misconfigured, request, stableId } from '../http.js';
import type { ChannelDeps, ChannelNotifier } from '../types.js';

export function createSmsChannel(deps: ChannelDeps): ChannelNotifier {
  return {
    async send(m) {
      const s = deps.settings.sms;
      if (!s) throw misconfigured('channel sms is not configured (channels.sms)');
      const secret = s.secretEnv ? deps.env[s.secretEnv] : '';
      if (secret === undefined) throw misconfigured(`sms: ${s.secretEnv} is not set`);
      const message = smsText(`[${m.page.severity}] ${m.page.title}`, m.ackUrl);
      const enc = smsEncoding(message);
      const values = { to: m.to, message, secret, receiptUrl: m.receiptUrl ?? '' };
      const contentType = s.contentType ?? 'json';
      let url: string, headers: Record<string, string>, body: string | undefined;
      try {
        url = renderTemplate(s.url, values, 'url');
        headers = Object.fromEntries(
          Object.entries(s.headers ?? {}).map(([k, v]) => [k, renderTemplate(v, values, 'header')]),
        );
        body = s.body !== undefined ? renderTemplate(s.body, values, contentType) : undefined;
      } catch (e) {
        throw misconfigured(`sms: ${(e as Error).message}`);
      }
      if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['content-type'] =
          contentType === 'form'
            ? 'application/x-www-form-urlencoded'
            : contentType === 'json'
              ? 'application/json'
              : 'text/plain; charset=utf-8';
      const res = await request(
        'SMS gateway',
        url,
        { method: s.method ?? 'POST', headers, body },
        deps.timeoutMs,
      );
      return {
        messageId: gatewayId(res.body) ?? stableId('sms', m.idempotencyKey),
        duplicate: false,
        status: 'accepted',
        detail: `${enc.encoding}, ${enc.segments} segment${enc.segments === 1 ? '' : 's'}`,
      };
    },
    close() {},
  };
}

/** The gateway's message id: Twilio's `sid`, the Android gateway's `id`, SMSEagle's `[0].message_id`. */
function gatewayId(body: string): string | undefined {
  try {
    const j = JSON.parse(body) as unknown;
    const o = (Array.isArray(j) ? j[0] : j) as Record<string, unknown> | undefined;
    const id = o?.sid ?? o?.id ?? o?.message_id;
    return id === undefined ? undefined : String(id);
  } catch {
    return undefined;
  }
}
