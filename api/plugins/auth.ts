import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../domain/config-schema.js';
import { HttpError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The contact id behind the bearer token; set by `app.staff` on staff routes. */
    actor?: string;
  }
  interface FastifyInstance {
    /** preHandler for staff routes: 401 without a valid bearer token. */
    staff: (req: FastifyRequest) => Promise<void>;
    /** The contact a staff token belongs to (the console's login form), or undefined. */
    staffContact: (token: string) => string | undefined;
    /** The SHA-256 (hex) of every staff token the contact has now (console sessions check it). */
    staffTokenHashes: (contactId: string) => string[];
  }
}

/** Hex SHA-256: secrets (tokens, routing keys) are compared and stored only as this. */
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Bearer tokens map to contacts: from STAFF_TOKENS (given through the environment) or from a
 * contact's `tokenSha256` in the config (stored hashed). Lookups compare hashes, never raw tokens.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, o: { config: Config; staffTokens: Map<string, string> }) => {
    const byHash = new Map<string, string>();
    for (const [token, contact] of o.staffTokens) byHash.set(sha256(token), contact);
    for (const c of o.config.contacts) if (c.tokenSha256) byHash.set(c.tokenSha256, c.id);

    const hashesOf = new Map<string, string[]>();
    for (const [hash, contact] of byHash) hashesOf.set(contact, [...(hashesOf.get(contact) ?? []), hash]);

    app.decorateRequest('actor', undefined);
    app.decorate('staffTokenHashes', (contactId: string) => hashesOf.get(contactId) ?? []);
    app.decorate('staffContact', (token: string) => (token ? byHash.get(sha256(token)) : undefined));
    app.decorate('staff', async (req: FastifyRequest) => {
      const header = req.headers.authorization;
      const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      if (!m)
        throw new HttpError(
          401,
          'unauthorized',
          'a staff bearer token is required (Authorization: Bearer <token>)',
        );
      const contact = byHash.get(sha256(m[1]!));
      if (!contact) throw new HttpError(401, 'unauthorized', 'unknown or revoked token');
      req.actor = contact;
    });
  },
);
