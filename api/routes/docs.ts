/**
 * Swagger UI at `/docs` (@fastify/swagger-ui, the Fastify team's plugin, serving the swagger-ui
 * bundle from the package: nothing is fetched from elsewhere), reading the same OpenAPI document as
 * `GET /openapi.json`. Its page needs a little more than the strict policy of our own pages: it
 * fetches the document (connect-src 'self'), sets inline styles and uses data: images for its icons;
 * still same-origin only, never framed.
 */
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const docsContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  // Read by the security plugin's header hook (plugins/security.ts) for these routes only.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, contentSecurityPolicy: docsContentSecurityPolicy };
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
    staticCSP: false,
  });
}
