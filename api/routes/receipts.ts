/**
 * Delivery receipts: a channel's service (Twilio's status callback, an SMS gateway's delivery
 * webhook) reports what became of a page at the signed receipt URL the page carried
 * (`{{receiptUrl}}` in the SMS templates). The token is the authentication: it binds the incident,
 * the recipient and the channel. `delivered` and failures are recorded as delivery attempts;
 * progress reports (`queued`, `sent`) are answered and not recorded.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AckLinks } from '../../activities/ack-links.js';
import { readReceipt } from '../../domain/receipts.js';
import { HttpError } from '../errors.js';
import type { IncidentService } from '../incident-service.js';
import { acceptForms } from '../html/respond.js';

export interface ReceiptRouteOptions {
  incidents: Pick<IncidentService, 'deliveryReceipt'>;
  ackLinks?: Pick<AckLinks, 'verifyReceipt'>;
}

const Answer = Type.Object(
  { recorded: Type.Boolean(), message: Type.String() },
  { additionalProperties: false },
);
const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});

export const receiptRoutes: FastifyPluginAsyncTypebox<ReceiptRouteOptions> = async (app, o) => {
  acceptForms(app);
  app.post(
    '/api/receipts/:token',
    {
      // A gateway reports every page it carries: the staff API's limit, per address.
      config: { rateLimit: app.rateLimits.staff },
      schema: {
        tags: ['deliveries'],
        summary:
          "A channel's delivery report for one page, at the signed receipt URL the page carried ({{receiptUrl}} in channels.sms): Twilio's status callback (form: MessageStatus, MessageSid, ErrorCode), the Android SMS Gateway webhook (event sms:delivered / sms:failed) or any body with a status field. delivered, undelivered and failed are recorded as delivery attempts in the incident; progress reports are answered recorded: false. A forged token is 401, an expired one 410",
        params: Type.Object({ token: Type.String({ maxLength: 1000 }) }),
        response: { 200: Answer, 400: ErrorBody, 401: ErrorBody, 410: ErrorBody, 503: ErrorBody },
      },
    },
    async (req) => {
      if (!o.ackLinks)
        throw new HttpError(503, 'not_configured', 'receipts need ACK_LINK_SECRET and PUBLIC_BASE_URL');
      const v = o.ackLinks.verifyReceipt(req.params.token);
      if (!v.ok) {
        if (v.reason === 'expired') throw new HttpError(410, 'expired', 'this receipt link has expired');
        throw new HttpError(401, 'unauthorized', 'not a valid receipt link');
      }
      const r = readReceipt(req.body);
      if (!r.ok) return { recorded: false, message: r.why };
      const { incidentId, recipientId, channel } = v.claims;
      const recorded = await o.incidents.deliveryReceipt(incidentId, {
        recipientId,
        channel,
        ...r.reading,
      });
      return {
        recorded,
        message: recorded
          ? `recorded: ${r.reading.status}`
          : `incident ${incidentId} is closed; the receipt is not recorded`,
      };
    },
  );
};
