/**
 * Adding a responder to an incident: whether it may be done, and what the timeline says. Pure; the API
 * asks it first (an unknown contact is 400 before anything is sent), the incident workflow's
 * addResponder update asks it again in its validator and runs what it answers.
 *
 * A responder is a contact from config, paged at once (the same paging path as an escalation level:
 * their notification rules, the idempotent sent ledger, the one-click acknowledge link) and from then
 * on one of the incident's recipients (the resolved notice goes to them too). Someone already paged
 * for the incident (at a level, as the communications contact, or added before) is not added again:
 * 409.
 */
export interface AddResponderInput {
  actor: string;
  /** The contact id asked for. */
  contactId: string;
  /** That contact as config has it; undefined: no such contact. */
  contact?: { id: string; name: string };
  /** Ids of everyone paged for the incident so far. */
  paged: readonly string[];
  note?: string;
  /** The longest note accepted. */
  maxNoteLength: number;
}

export type AddResponderDecision =
  | { outcome: 'invalid'; message: string }
  | { outcome: 'already'; message: string }
  | { outcome: 'add'; detail: string };

export function addResponder(i: AddResponderInput): AddResponderDecision {
  if (typeof i.contactId !== 'string' || i.contactId.trim() === '')
    return { outcome: 'invalid', message: 'contact: name the contact to add' };
  if (!i.contact || i.contact.id !== i.contactId)
    return { outcome: 'invalid', message: `contact: unknown contact "${i.contactId}"` };
  if (i.note !== undefined && (typeof i.note !== 'string' || i.note.length > i.maxNoteLength))
    return { outcome: 'invalid', message: `note: at most ${i.maxNoteLength} characters` };
  if (i.paged.includes(i.contact.id))
    return { outcome: 'already', message: `contact: ${i.contact.name} is already paged for this incident` };
  const note = i.note?.trim();
  return {
    outcome: 'add',
    detail: `${i.actor} added ${i.contact.name} as a responder${note ? `: ${note}` : ''}`,
  };
}
