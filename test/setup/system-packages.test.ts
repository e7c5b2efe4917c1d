/** The packages check before any suite: install as root, else one line naming what to install. */
import { describe, expect, it } from 'vitest';
import { missingPackages, provisioning, type Probe } from './system-packages.js';

const machine = (has: string[]): Probe => ({
  exists: (f) => has.includes(f),
  onPath: (c) => has.includes(c),
  postgres: () => (has.includes('postgres') ? '/usr/lib/postgresql/15/bin' : undefined),
});

describe('system packages for npm test', () => {
  it('names each missing Debian package', () => {
    expect(missingPackages(machine([]))).toEqual(['chromium', 'postgresql', 'openssh-client', 'openssl']);
    expect(missingPackages(machine(['/usr/bin/chromium', 'postgres', 'ssh-keygen', 'openssl']))).toEqual([]);
    expect(missingPackages(machine(['/usr/bin/chromium', 'ssh-keygen', 'openssl']))).toEqual(['postgresql']);
  });

  it('installs as root with apt-get; otherwise stops with one line saying what to install', () => {
    expect(provisioning([], { root: false, apt: false })).toEqual({ action: 'none' });
    expect(provisioning(['chromium', 'postgresql'], { root: true, apt: true })).toEqual({
      action: 'install',
      packages: ['chromium', 'postgresql'],
    });
    const stop = provisioning(['chromium', 'postgresql'], { root: false, apt: true });
    expect(stop).toEqual({
      action: 'stop',
      line: 'npm test needs the Debian packages chromium, postgresql: sudo apt-get install -y chromium postgresql (or run npm test as root, which installs them)',
    });
    expect((stop as { line: string }).line).not.toContain('\n');
    expect(provisioning(['openssl'], { root: true, apt: false }).action).toBe('stop');
  });
});
