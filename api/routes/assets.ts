import type { FastifyPluginAsync } from 'fastify';
import { assets } from '../html/layout.js';

/** The pages' stylesheet and script, same-origin (the CSP allows nothing else). */
export const assetRoutes: FastifyPluginAsync = async (app) => {
  for (const a of Object.values(assets)) {
    app.get(a.path, { schema: { hide: true } }, async (req, reply) => {
      reply.header('cache-control', 'public, max-age=3600').header('etag', a.etag);
      if (req.headers['if-none-match'] === a.etag) return reply.status(304).send();
      return reply.type(a.type).send(a.body);
    });
  }
};
