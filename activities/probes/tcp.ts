import net from 'node:net';
import type { TcpCheck } from '../../domain/config-schema.js';
import { ProbeError, errorMessage, hostPort, networkError, timed, withDeadline } from './common.js';
import type { Probe } from './types.js';
import { probeLookups } from './dns-cache.js';

/** Opens a TCP connection to `host:port` and closes it again. */
export const tcpProbe: Probe<TcpCheck> = {
  kind: 'tcp',
  run: (check, ctx) => {
    const where = hostPort(check.host, check.port);
    return timed(() =>
      withDeadline(
        ctx,
        (limit) =>
          `no answer from ${where} within ${limit} (a firewall may be dropping packets, or the host is down)`,
        (signal) =>
          new Promise<string>((resolve, reject) => {
            // The name is looked up through the worker's shared cache (activities/probes/dns-cache.ts).
            const socket = net.connect({ host: check.host, port: check.port, lookup: probeLookups.lookup });
            const onAbort = (): void => {
              socket.destroy();
            };
            signal.addEventListener('abort', onAbort, { once: true });
            socket.once('connect', () => {
              signal.removeEventListener('abort', onAbort);
              socket.destroy();
              resolve(`TCP connection to ${where} accepted`);
            });
            socket.once('error', (err) => {
              signal.removeEventListener('abort', onAbort);
              socket.destroy();
              reject(
                networkError(err, check.host, check.port) ??
                  new ProbeError('network', `connecting to ${where} failed: ${errorMessage(err)}`),
              );
            });
          }),
      ),
    );
  },
};
