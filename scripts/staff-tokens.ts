/**
 * `npm start`'s staff tokens: one per contact, so everyone in the example config can sign in (the
 * console's login form or `Authorization: Bearer`). Each is a random 32-character token in
 * `data/staff-tokens/<contact id>` (0600 files in a 0700 folder), made once and kept across starts;
 * `data/staff-token` stays the first service owner's (the quick start's `curl` uses it). The tokens
 * go to the API through STAFF_TOKENS only, never into the config, the repo or the log.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../domain/config-schema.js';

export interface StaffTokenFiles {
  /** `contactId=token,…` for STAFF_TOKENS. */
  staffTokens: string;
  /** The contact whose token is also in `data/staff-token`. */
  owner: string;
  /** The folder with one file per contact. */
  folder: string;
}

const readOrCreate = (file: string, make: () => string): string => {
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
};

export function ensureStaffTokens(
  dataDir: string,
  config: Pick<Config, 'contacts' | 'services'>,
): StaffTokenFiles {
  const owner = config.services.find((s) => s.component)?.owner ?? config.contacts[0]!.id;
  const folder = path.join(dataDir, 'staff-tokens');
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
  const fresh = () => randomBytes(24).toString('base64url');
  // The owner's token predates the folder: keep it, so an existing data/ keeps working.
  const ownerToken = readOrCreate(path.join(dataDir, 'staff-token'), fresh);
  const pairs = config.contacts.map((c) => {
    const token = readOrCreate(path.join(folder, c.id), () => (c.id === owner ? ownerToken : fresh()));
    return `${c.id}=${token}`;
  });
  return { staffTokens: pairs.join(','), owner, folder };
}
