import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { StatusBoardReader } from '../status-board.js';

const Message = Type.Object({
  at: Type.String(),
  state: Type.String(),
  message: Type.String({ description: 'plain text, exactly as published: render it as text, never as HTML' }),
});
const Incident = Type.Object({
  id: Type.String(),
  service: Type.String(),
  component: Type.String(),
  severity: Type.String(),
  state: Type.String({ description: 'state of the latest status message' }),
  openedAt: Type.String(),
  closedAt: Type.Optional(Type.String()),
  messages: Type.Array(Message),
});

/**
 * The public status as JSON: no token needed, only what was published — the same board as the
 * status page (`/status`) and its Atom feed (`/status/feed.atom`).
 */
export const statusRoutes: FastifyPluginAsyncTypebox<{ board: StatusBoardReader }> = async (app, o) => {
  app.get(
    '/api/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Public components, open incidents with their status messages, and the recent history',
        response: {
          200: Type.Object({
            generatedAt: Type.String(),
            stale: Type.Boolean({ description: 'the record store was unreachable: the last status read' }),
            historyDays: Type.Integer(),
            components: Type.Array(
              Type.Object({
                service: Type.String(),
                component: Type.String(),
                status: Type.String({ description: 'operational, degraded or major_outage' }),
                incidents: Type.Array(Type.String()),
              }),
            ),
            incidents: Type.Array(Incident, { description: 'open incidents with a published message' }),
            history: Type.Array(Incident, { description: 'closed incidents of the last historyDays' }),
          }),
        },
      },
    },
    async () => o.board.get(),
  );
};
