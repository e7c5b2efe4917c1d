/**
 * What a channel's service says became of a page, from the request it sends to the page's signed
 * receipt URL: Twilio's status callback (form: `MessageStatus`, `MessageSid`, `ErrorCode`), the
 * Android SMS Gateway app's webhook (JSON: `event: sms:delivered | sms:failed`, `payload`), and any
 * gateway that posts a `status` field (SMSEagle's delivery callback). Pure: the API route asks here.
 */

export interface ReceiptReading {
  status: 'delivered' | 'failed';
  messageId?: string;
  detail?: string;
}

/** Longest service text kept (an error message from outside goes into the timeline). */
export const maxReceiptDetail = 200;

const delivered = new Set(['delivered', 'read', 'sms:delivered']);
const failed = new Set(['undelivered', 'failed', 'sms:failed', 'error', 'rejected', 'expired']);

/**
 * The reading, or why there is nothing to record (a progress report such as `queued` or `sent`,
 * or a body that names no status).
 */
export function readReceipt(
  body: unknown,
): { ok: true; reading: ReceiptReading } | { ok: false; why: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, why: 'the body names no status (MessageStatus, status or event)' };
  const b = body as Record<string, unknown>;
  const payload =
    typeof b.payload === 'object' && b.payload !== null ? (b.payload as Record<string, unknown>) : {};
  const raw = b.MessageStatus ?? b.SmsStatus ?? b.event ?? b.status ?? b.state ?? payload.state;
  if (typeof raw !== 'string' || raw.trim() === '')
    return { ok: false, why: 'the body names no status (MessageStatus, status or event)' };
  const s = raw.trim().toLowerCase();
  const status = delivered.has(s) ? 'delivered' : failed.has(s) ? 'failed' : undefined;
  if (!status) return { ok: false, why: `nothing to record: the status is "${clip(raw, 40)}"` };
  const id = b.MessageSid ?? b.SmsSid ?? b.message_id ?? b.messageId ?? payload.messageId ?? b.id;
  const why = [
    b.ErrorCode !== undefined && b.ErrorCode !== '' ? `error ${String(b.ErrorCode)}` : '',
    b.ErrorMessage ?? b.reason ?? payload.reason ?? b.error,
  ]
    .filter((x): x is string => typeof x === 'string' && x.trim() !== '')
    .join(' ');
  return {
    ok: true,
    reading: {
      status,
      ...(typeof id === 'string' || typeof id === 'number' ? { messageId: clip(String(id), 100) } : {}),
      ...(status === 'failed' && why ? { detail: clip(why, maxReceiptDetail) } : {}),
    },
  };
}

/** At most `n` characters, control characters made spaces (it is shown in the timeline). */
function clip(s: string, n: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}
