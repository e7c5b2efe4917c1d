import { describe, expect, it } from 'vitest';
import { maxReceiptDetail, readReceipt } from '../../domain/receipts.js';

describe('readReceipt', () => {
  it.each([
    [
      "Twilio's status callback: delivered",
      { MessageSid: 'SM3f1b2c', MessageStatus: 'delivered', To: '+4791234567' },
      { ok: true, reading: { status: 'delivered', messageId: 'SM3f1b2c' } },
    ],
    [
      "Twilio's status callback: undelivered with its error code",
      { MessageSid: 'SM3f1b2c', MessageStatus: 'undelivered', ErrorCode: '30003' },
      { ok: true, reading: { status: 'failed', messageId: 'SM3f1b2c', detail: 'error 30003' } },
    ],
    [
      "Twilio's progress report (sent): nothing to record",
      { MessageSid: 'SM3f1b2c', MessageStatus: 'sent' },
      { ok: false, why: 'nothing to record: the status is "sent"' },
    ],
    [
      'the Android SMS Gateway webhook: sms:delivered',
      { event: 'sms:delivered', payload: { messageId: 'sms-7f3a', phoneNumber: '+4791234567' } },
      { ok: true, reading: { status: 'delivered', messageId: 'sms-7f3a' } },
    ],
    [
      'the Android SMS Gateway webhook: sms:failed with its reason',
      { event: 'sms:failed', payload: { messageId: 'sms-7f3a', reason: 'RESULT_ERROR_NO_SERVICE' } },
      { ok: true, reading: { status: 'failed', messageId: 'sms-7f3a', detail: 'RESULT_ERROR_NO_SERVICE' } },
    ],
    [
      'a gateway that posts a status field (SMSEagle)',
      { message_id: 812, status: 'Delivered' },
      { ok: true, reading: { status: 'delivered', messageId: '812' } },
    ],
    ['an empty body', {}, { ok: false, why: 'the body names no status (MessageStatus, status or event)' }],
    [
      'not an object',
      'delivered',
      { ok: false, why: 'the body names no status (MessageStatus, status or event)' },
    ],
    ['a list', [{ status: 'delivered' }], { ok: false }],
  ])('%s', (_name, body, want) => {
    expect(readReceipt(body)).toMatchObject(want);
  });

  it('keeps a hostile failure text short and on one line', () => {
    const r = readReceipt({ MessageStatus: 'failed', ErrorMessage: `bad\n\u0007${'x'.repeat(1000)}` });
    expect(r.ok).toBe(true);
    const detail = r.ok ? r.reading.detail! : '';
    expect(detail.length).toBe(maxReceiptDetail);
    expect(detail.includes('\n') || detail.includes('\u0007')).toBe(false);
    expect(detail.endsWith('…')).toBe(true);
  });
});
