import type { SshCheck } from '../../domain/config-schema.js';
import { ProbeError, timed } from './common.js';
import { withSsh, type SshSession } from './ssh-connect.js';
import type { Probe } from './types.js';

const maxStderr = 300;

interface ExecOutcome {
  exitCode: number | null;
  signal: string | undefined;
  stderr: string;
}

function exec(session: SshSession, command: string): Promise<ExecOutcome> {
  return new Promise((resolve, reject) => {
    session.client.exec(command, (err, stream) => {
      if (err) {
        reject(
          new ProbeError('command-failed', `${session.where} refused to run "${command}": ${err.message}`),
        );
        return;
      }
      const outcome: ExecOutcome = { exitCode: null, signal: undefined, stderr: '' };
      stream.on('exit', (code: number | null, signal?: string) => {
        outcome.exitCode = code;
        outcome.signal = signal;
      });
      stream.stderr.on('data', (chunk: Buffer) => {
        if (outcome.stderr.length < 4 * maxStderr) outcome.stderr += chunk.toString('utf8');
      });
      stream.on('close', () => resolve(outcome));
      stream.resume(); // stdout is not needed, but must be read for the channel to finish
    });
  });
}

function excerpt(stderr: string): string {
  const text = stderr.trim().replace(/\s+/g, ' ');
  if (!text) return '';
  return `: ${text.length > maxStderr ? `${text.slice(0, maxStderr)}…` : text}`;
}

/**
 * SSH: handshake with the host-key check; with `auth`, authentication; with `command`, runs it and
 * compares its exit code with `expectExitCode`.
 */
export const sshProbe: Probe<SshCheck> = {
  kind: 'ssh',
  run: (check, ctx) =>
    timed(async () => {
      if (check.command !== undefined && check.auth === undefined) {
        throw new ProbeError('auth-config', `the check runs "${check.command}", which needs an auth block`);
      }
      return withSsh(check, ctx, async (session) => {
        const who = session.username ? `, authenticated as "${session.username}"` : '';
        const base = `SSH to ${session.where} ok (host key ${session.fingerprint}${who})`;
        if (check.command === undefined) return base;
        session.step(`running "${check.command}"`);
        const outcome = await exec(session, check.command);
        if (outcome.exitCode === check.expectExitCode)
          return `${base}; "${check.command}" exited ${outcome.exitCode}`;
        const how =
          outcome.exitCode !== null
            ? `exited ${outcome.exitCode}`
            : outcome.signal
              ? `was killed by ${outcome.signal}`
              : 'ended without an exit status';
        throw new ProbeError(
          'command-failed',
          `"${check.command}" on ${session.where} ${how}, expected exit code ${check.expectExitCode}${excerpt(outcome.stderr)}`,
        );
      });
    }),
};
