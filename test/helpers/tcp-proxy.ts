/**
 * A TCP forwarder between one process and a server (a worker and Temporal) that the test can cut:
 * the connections through it are closed at once (the server sees the process's long polls go away,
 * so it hands it no more tasks), and connections made afterwards are accepted but never forwarded
 * (a report the process retries on a new connection hangs there). A drill cuts a worker's Temporal
 * connection so that the worker can finish something locally (send a mail, write the ledger) while
 * its report of it never reaches the server — and then kills the worker.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:<port>`: where the process should connect instead of the target. */
  address: string;
  port: number;
  /** Close every forwarded connection, and forward nothing from now on. */
  cut(): void;
  isCut(): boolean;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const i = target.lastIndexOf(':');
  const host = target.slice(0, i);
  const targetPort = Number(target.slice(i + 1));
  let cut = false;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };

  const server = net.createServer((client) => {
    track(client);
    if (cut) {
      // Accepted, never answered: whatever the process sends here goes nowhere.
      client.pause();
      return;
    }
    const upstream = net.connect(targetPort, host);
    track(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    isCut: () => cut,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
