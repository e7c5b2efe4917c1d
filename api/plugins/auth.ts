import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config, StaffRole } from '../../domain/config-schema.js';
import { allowed, refusal, rolesOf } from '../../domain/access.js';
import { HttpError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The contact id behind the bearer token; set by `app.staff` on staff routes. */
    actor?: string;
  }
  interface FastifyContextConfig {
    /** The role a staff route needs (domain/access.ts); unset → any signed-in contact. */
    role?: StaffRole;
    /** What the route does, for the 403 message ("Publishing a status message"). */
    action?: string;
  }
  interface FastifyInstance {
    /**
     * preHandler for staff routes: 401 without a valid bearer token, 429 after too many wrong ones
     * from the address (or everywhere), 403 without the route's role.
     */
    staff: (req: FastifyRequest) => Promise<void>;
    /** 403 (HttpError) unless the request's actor has the role its route (or `needed`) names. */
    authorize: (req: FastifyRequest, needed?: StaffRole, action?: string) => void;
    /** The roles of a contact (its `roles`, else `access.defaultRoles`). */
    staffRoles: (contactId: string) => StaffRole[];
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

    const nameOf = (id: string) => o.config.contacts.find((c) => c.id === id)?.name ?? id;
    app.decorateRequest('actor', undefined);
    app.decorate('staffRoles', (contactId: string) => rolesOf(o.config, contactId));
    app.decorate('authorize', (req: FastifyRequest, needed?: StaffRole, action?: string) => {
      const config = req.routeOptions.config as { role?: StaffRole; action?: string } | undefined;
      const role = needed ?? config?.role;
      if (!role) return;
      const roles = req.actor ? rolesOf(o.config, req.actor) : [];
      if (!allowed(roles, role))
        throw new HttpError(
          403,
          'forbidden',
          refusal(req.actor ? nameOf(req.actor) : 'nobody', roles, role, action ?? config?.action),
        );
    });
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
      // Wrong tokens are throttled like every other key (wrong-keys.ts): per address, then globally.
      const throttled = (wait: number) =>
        new HttpError(
          429,
          'rate_limited',
          `authorization: too many wrong staff tokens from this address; try again in ${wait} s`,
          'authorization',
          { 'retry-after': String(wait) },
        );
      const wait = app.wrongKeys?.refused(req.ip) ?? 0;
      if (wait > 0) throw throttled(wait);
      const contact = byHash.get(sha256(m[1]!));
      if (!contact) {
        const over = app.wrongKeys?.wrong(req.ip) ?? 0;
        if (over > 0) throw throttled(over);
        throw new HttpError(401, 'unauthorized', 'unknown or revoked token');
      }
      req.actor = contact;
      app.authorize(req);
    });
  },
);
