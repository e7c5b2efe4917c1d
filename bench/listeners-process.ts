/**
 * The cost benchmark's probe targets, in a process of their own (bench/cost.ts forks it), so that
 * accepting 20,000 connections a minute is in neither the measured system's CPU nor the bare loop's.
 * `BENCH_LISTENERS` TCP listeners on 127.0.0.1, each on a free port; each counts the connections it
 * accepts. Over IPC: `counts` (accepts per listener so far), `close` (stop listening: connections are
 * refused from then on) and `stop`.
 */
import net from 'node:net';

type Request = { id: number } & ({ type: 'counts' } | { type: 'close'; index: number } | { type: 'stop' });

const n = Number(process.env.BENCH_LISTENERS);
const counts = new Array<number>(n).fill(0);
const servers: net.Server[] = [];

async function main() {
  for (let i = 0; i < n; i++) {
    const s = net.createServer((socket) => {
      counts[i]!++;
      socket.on('error', () => undefined);
      socket.end();
    });
    s.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    servers.push(s);
  }
  process.send?.({ type: 'ready', ports: servers.map((s) => (s.address() as net.AddressInfo).port) });
  process.on('message', (m: Request) => {
    if (m.type === 'counts') process.send?.({ id: m.id, counts });
    else if (m.type === 'close') {
      servers[m.index]!.close();
      // The listening socket is closed at once (close() only waits for open connections after that).
      process.send?.({ id: m.id, at: Date.now() });
    } else if (m.type === 'stop') stop();
  });
  process.on('disconnect', stop);
}

function stop() {
  for (const s of servers) s.close();
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error('[bench listeners] fatal:', e);
  process.send?.({ type: 'failed', error: String(e) });
  process.exit(1);
});
