/**
 * Who may do what once signed in. Pure: the API's auth plugin asks `allowed` for every staff route
 * that names a role, the console the same for its forms.
 *
 * - responder: declare, acknowledge, add notes, resolve, postmortem work (complete, follow-ups);
 * - communicator: publish public status messages;
 * - admin: on-call overrides, maintenance (pause/resume monitors), force actions — and everything
 *   the other two may do.
 *
 * Reading (incidents, monitors, schedules, reports) needs a sign-in and no role.
 */
import type { Config, StaffRole } from './config-schema.js';

export type { StaffRole } from './config-schema.js';

/** The roles of a contact: its own `roles`, else the config's `access.defaultRoles`; unknown → none. */
export function rolesOf(config: Pick<Config, 'contacts' | 'access'>, contactId: string): StaffRole[] {
  const contact = config.contacts.find((c) => c.id === contactId);
  if (!contact) return [];
  return [...(contact.roles ?? config.access?.defaultRoles ?? ['responder', 'communicator', 'admin'])];
}

/** Whether someone with `roles` may do what needs `needed` (admin may do everything). */
export function allowed(roles: readonly StaffRole[], needed: StaffRole): boolean {
  return roles.includes(needed) || roles.includes('admin');
}

/** What a refusal says: who, what the action needs, what they have. */
export function refusal(
  actorName: string,
  roles: readonly StaffRole[],
  needed: StaffRole,
  action?: string,
): string {
  const have =
    roles.length === 0 ? 'no role (read only)' : `the role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`;
  return `${action ? `${action} needs` : 'This needs'} the ${needed} role; ${actorName} has ${have}.`;
}
