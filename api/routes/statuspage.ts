/**
 * Statuspage-compatible public reads (`/api/v2/*.json`), from the same board as `/status`: status
 * aggregators and "external status page" checks of other monitors read ours unchanged. Public, like
 * the status page, and readable from any origin (as Statuspage's are). Shapes: domain/statuspage.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { statuspageShapes } from '../../domain/statuspage.js';
import type { StatusBoardReader } from '../status-board.js';

export const statuspageRoutes: FastifyPluginAsyncTypebox<{
  board: StatusBoardReader;
  publicBaseUrl?: string;
}> = async (app, o) => {
  const shapes = async (req: FastifyRequest) => {
    const base = (o.publicBaseUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
    return statuspageShapes(await o.board.get(), {
      id: 'status',
      name: 'Service status',
      url: `${base}/status`,
    });
  };
  const route = (url: string, summary: string, pick: (s: Awaited<ReturnType<typeof shapes>>) => unknown) =>
    app.get(
      url,
      {
        schema: {
          tags: ['status'],
          summary,
          description:
            'Atlassian Statuspage public API v2 shape (page, components, incidents, status), from the public status board: only published incidents of configured components.',
        },
      },
      async (req: FastifyRequest, reply: FastifyReply) =>
        reply
          .header('access-control-allow-origin', '*')
          .header('cache-control', 'public, max-age=10')
          .send(pick(await shapes(req))),
    );
  route(
    '/api/v2/summary.json',
    'Statuspage summary: page, components, unresolved incidents, status',
    (s) => s.summary,
  );
  route('/api/v2/status.json', 'Statuspage status: the page indicator and its description', (s) => s.status);
  route('/api/v2/components.json', 'Statuspage components', (s) => s.components);
  route(
    '/api/v2/incidents.json',
    'Statuspage incidents: the 50 most recent (open first)',
    (s) => s.incidents,
  );
  route('/api/v2/incidents/unresolved.json', 'Statuspage unresolved incidents', (s) => s.unresolved);
  route(
    '/api/v2/scheduled-maintenances.json',
    'Statuspage scheduled maintenances: the config’s maintenance windows in progress or starting within 7 days',
    (s) => s.maintenances,
  );
  route(
    '/api/v2/scheduled-maintenances/upcoming.json',
    'Statuspage upcoming scheduled maintenances',
    (s) => s.upcomingMaintenances,
  );
  route(
    '/api/v2/scheduled-maintenances/active.json',
    'Statuspage scheduled maintenances in progress',
    (s) => s.activeMaintenances,
  );
};
