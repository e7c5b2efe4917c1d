import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowed, refusal, rolesOf, type StaffRole } from '../../domain/access.js';
import { staffRoles } from '../../domain/config-schema.js';
import { validateConfig } from '../../config/load.js';

const base = {
  contacts: [
    { id: 'kari', name: 'Kari', email: 'kari@test.local', roles: ['admin'] },
    { id: 'ola', name: 'Ola', email: 'ola@test.local', roles: ['responder'] },
    { id: 'kom', name: 'Kom', email: 'kom@test.local', roles: ['communicator'] },
    { id: 'les', name: 'Les', email: 'les@test.local', roles: [] },
    { id: 'old', name: 'Old', email: 'old@test.local' },
  ],
  policies: [{ id: 'p', levels: [{ notify: ['kari'], ackTimeout: '5m' }], acknowledgementTimeout: '1h' }],
  services: [{ id: 's', name: 'S', owner: 'kari', policy: 'p', severity: 'P2' }],
};

describe('roles', () => {
  it.each<[StaffRole[], StaffRole, boolean]>([
    [['responder'], 'responder', true],
    [['responder'], 'communicator', false],
    [['responder'], 'admin', false],
    [['communicator'], 'communicator', true],
    [['communicator'], 'responder', false],
    [['admin'], 'responder', true],
    [['admin'], 'communicator', true],
    [['admin'], 'admin', true],
    [[], 'responder', false],
    [['responder', 'communicator'], 'admin', false],
  ])('%j may do what needs %s: %s', (roles, needed, expected) => {
    expect(allowed(roles, needed)).toBe(expected);
  });

  it('admin may do anything; without admin, exactly the roles held', () => {
    fc.assert(
      fc.property(fc.subarray([...staffRoles]), fc.constantFrom(...staffRoles), (roles, needed) => {
        expect(allowed(roles, needed)).toBe(roles.includes('admin') || roles.includes(needed));
      }),
    );
  });

  it('a contact without roles has every role by default (files from before roles keep working)', () => {
    const config = validateConfig(base);
    expect(config.access.defaultRoles).toEqual(['responder', 'communicator', 'admin']);
    expect(rolesOf(config, 'old')).toEqual(['responder', 'communicator', 'admin']);
    expect(rolesOf(config, 'ola')).toEqual(['responder']);
    expect(rolesOf(config, 'les')).toEqual([]);
    expect(rolesOf(config, 'nobody')).toEqual([]);
  });

  it('access.defaultRoles applies to contacts without roles only', () => {
    const config = validateConfig({ ...base, access: { defaultRoles: ['responder'] } });
    expect(rolesOf(config, 'old')).toEqual(['responder']);
    expect(rolesOf(config, 'kari')).toEqual(['admin']);
  });

  it('an unknown role is refused naming its path', () => {
    const bad = structuredClone(base) as { contacts: { roles?: unknown[] }[]; access?: unknown };
    bad.contacts[1]!.roles = ['responder', 'boss'];
    bad.access = { defaultRoles: ['everyone'] };
    expect(() => validateConfig(bad)).toThrow(/contacts\[1\]\.roles\[1\]/);
    expect(() => validateConfig(bad)).toThrow(/access\.defaultRoles\[0\]/);
  });

  it('a refusal names the person, the role needed and the roles held', () => {
    expect(refusal('Ola', ['responder'], 'communicator', 'Publishing a status message')).toBe(
      'Publishing a status message needs the communicator role; Ola has the role responder.',
    );
    expect(refusal('Les', [], 'responder')).toBe(
      'This needs the responder role; Les has no role (read only).',
    );
  });
});
