import type { SFTPWrapper, Stats } from 'ssh2';
import type { SftpFileAgeCheck } from '../../domain/config-schema.js';
import { durationMs, formatDuration } from '../../domain/duration.js';
import { ProbeError, timed } from './common.js';
import { withSsh, type SshSession } from './ssh-connect.js';
import type { Probe } from './types.js';

/** SFTP status codes (draft-ietf-secsh-filexfer). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

function openSftp(session: SshSession): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    session.client.sftp((err, sftp) => {
      if (err) reject(new ProbeError('sftp-error', `${session.where} did not start SFTP: ${err.message}`));
      else resolve(sftp);
    });
  });
}

function stat(session: SshSession, sftp: SFTPWrapper, path: string): Promise<Stats> {
  return new Promise((resolve, reject) => {
    sftp.stat(path, (err, stats) => {
      if (!err) return resolve(stats);
      const code = (err as Error & { code?: number }).code;
      if (code === NO_SUCH_FILE)
        reject(new ProbeError('file-missing', `${path} does not exist on ${session.where}`));
      else if (code === PERMISSION_DENIED)
        reject(new ProbeError('sftp-error', `permission denied reading ${path} on ${session.where}`));
      else
        reject(
          new ProbeError('sftp-error', `SFTP stat of ${path} on ${session.where} failed: ${err.message}`),
        );
    });
  });
}

/** Connects over SFTP and checks that the file at `path` was modified within `maxAge`. */
export const sftpFileAgeProbe: Probe<SftpFileAgeCheck> = {
  kind: 'sftpFileAge',
  run: (check, ctx) =>
    timed(async () => {
      const maxAgeMs = durationMs(check.maxAge);
      return withSsh(check, ctx, async (session) => {
        session.step(`opening SFTP to look at ${check.path}`);
        const sftp = await openSftp(session);
        try {
          session.step(`reading the attributes of ${check.path} over SFTP`);
          const stats = await stat(session, sftp, check.path);
          const modified = new Date(stats.mtime * 1000);
          const ageMs = Math.max(0, Date.now() - modified.getTime());
          const age = `${formatDuration(ageMs)} ago (${modified.toISOString()})`;
          if (ageMs > maxAgeMs) {
            throw new ProbeError(
              'file-stale',
              `${check.path} on ${session.where} was last modified ${age}, longer ago than the allowed ${formatDuration(maxAgeMs)}`,
            );
          }
          return `${check.path} on ${session.where} was modified ${age}, within ${formatDuration(maxAgeMs)}`;
        } finally {
          sftp.end();
        }
      });
    }),
};
