import { describe, expect, it } from 'vitest';
import { addResponder, type AddResponderInput } from '../../domain/responders.js';

const base: AddResponderInput = {
  actor: 'ola',
  contactId: 'ingrid',
  contact: { id: 'ingrid', name: 'Ingrid Berg' },
  paged: ['kari'],
  maxNoteLength: 30,
};

describe('addResponder', () => {
  it.each<[string, Partial<AddResponderInput>, ReturnType<typeof addResponder>]>([
    [
      'a known contact not paged yet: added, the timeline names who added whom',
      {},
      { outcome: 'add', detail: 'ola added Ingrid Berg as a responder' },
    ],
    [
      'with a note: the note follows',
      { note: '  knows the export job ' },
      { outcome: 'add', detail: 'ola added Ingrid Berg as a responder: knows the export job' },
    ],
    [
      'a blank note says nothing',
      { note: '   ' },
      { outcome: 'add', detail: 'ola added Ingrid Berg as a responder' },
    ],
    [
      'an unknown contact: invalid, naming the field and the id',
      { contactId: 'nobody', contact: undefined },
      { outcome: 'invalid', message: 'contact: unknown contact "nobody"' },
    ],
    [
      'a contact that is not the one asked for is unknown',
      { contactId: 'per' },
      { outcome: 'invalid', message: 'contact: unknown contact "per"' },
    ],
    [
      'no contact id',
      { contactId: ' ', contact: undefined },
      { outcome: 'invalid', message: 'contact: name the contact to add' },
    ],
    [
      'a note over the limit',
      { note: 'x'.repeat(31) },
      { outcome: 'invalid', message: 'note: at most 30 characters' },
    ],
    [
      'already paged (at a level, or added before): refused',
      { paged: ['kari', 'ingrid'] },
      { outcome: 'already', message: 'contact: Ingrid Berg is already paged for this incident' },
    ],
    [
      'the actor may add themselves when not paged',
      { actor: 'ingrid' },
      { outcome: 'add', detail: 'ingrid added Ingrid Berg as a responder' },
    ],
  ])('%s', (_name, change, expected) => {
    expect(addResponder({ ...base, ...change })).toEqual(expected);
  });
});
