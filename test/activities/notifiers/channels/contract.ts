/** How every HTTP channel must treat a hosted service's refusals (the Notifier contract), asserted. */
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'vitest';
import type { ChannelMessage, ChannelNotifier } from '../../../../activities/notifiers/types.js';
import type { Answer, HttpService } from '../../../helpers/http-service.js';

export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ApplicationFailure);
  return e as ApplicationFailure;
}

export function page(over: Partial<ChannelMessage> = {}): ChannelMessage {
  return {
    idempotencyKey: `inc-42/run-1/page-1-0/kari/${Math.random()}`,
    to: 'kari',
    recipient: { id: 'kari', name: 'Kari Nordmann' },
    page: {
      incidentId: 'inc-42',
      title: 'FS → Canvas integration is down',
      text: 'The nightly export has not arrived for 3 hours.',
      severity: 'P1',
      service: 'fs-canvas',
      consoleUrl: 'https://incidents.example.org/console/incidents/inc-42',
    },
    ackUrl: 'https://incidents.example.org/ack/YTF-token.sig',
    ...over,
  };
}

/**
 * The service answering 401, 429 with Retry-After, and 5xx, with its documented bodies: 401 is
 * permanent and names the status, 429 is retried after the given seconds, 5xx is retried.
 */
export async function assertRefusals(
  service: HttpService,
  channel: ChannelNotifier,
  message: () => ChannelMessage,
  bodies: { unauthorized: Answer; tooMany: Answer; serverError: Answer },
): Promise<void> {
  service.answer(bodies.unauthorized);
  const e401 = await failureOf(channel.send(message()));
  expect(e401.nonRetryable).toBe(true);
  expect(e401.message).toMatch(/answered 401/);

  service.answer({ ...bodies.tooMany, headers: { 'retry-after': '30', ...bodies.tooMany.headers } });
  const e429 = await failureOf(channel.send(message()));
  expect(e429.nonRetryable).toBe(false);
  expect(e429.nextRetryDelay).toBe(30_000);
  expect(e429.message).toMatch(/answered 429.*retry after 30s/);

  service.answer(bodies.serverError);
  const e5xx = await failureOf(channel.send(message()));
  expect(e5xx.nonRetryable).toBe(false);
  expect(e5xx.message).toMatch(/answered 5\d\d/);
}
