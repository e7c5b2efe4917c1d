/**
 * Reused DNS lookups for probes: 1,000 checks of a handful of hosts should not ask the resolver a
 * thousand times a minute. A lookup (Node's `dns.lookup`: getaddrinfo, so /etc/hosts and the system
 * resolver answer as for any other program) is kept for `ttlMs` and shared by every probe of the
 * host in that time; probes of the same host that start together wait for one lookup. Failures are
 * never kept: a host that stops resolving is reported by the very next probe, with its reason.
 *
 * Not a library: cacheable-lookup (the usual choice) asks DNS servers directly and so answers
 * differently from getaddrinfo for /etc/hosts and search domains; a probe must resolve a name the
 * way the service's own clients do.
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

type Callback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
type LookupOptions = { family?: number | string; all?: boolean; hints?: number };
type Lookup = (hostname: string, options: LookupOptions, callback: Callback) => void;

export interface LookupCacheOptions {
  /** How long an answer is reused (default 30 s: a moved host is probed at its new address within it). */
  ttlMs?: number;
  /** Most names kept; the oldest goes first (default 10,000). */
  maxEntries?: number;
  now?: () => number;
  /** The resolver asked on a miss (default `dns.lookup`). */
  lookup?: Lookup;
}

export interface LookupCache {
  /** A drop-in `lookup` for `net.connect` and `http.request`. */
  lookup: Lookup;
  /** Answers the name to one address (for clients without a `lookup` option, such as ssh2). */
  resolve(hostname: string): Promise<string>;
  stats(): { hits: number; misses: number; entries: number };
  clear(): void;
}

export function createLookupCache(o: LookupCacheOptions = {}): LookupCache {
  const ttlMs = o.ttlMs ?? 30_000;
  const maxEntries = o.maxEntries ?? 10_000;
  const now = o.now ?? Date.now;
  const ask = o.lookup ?? (dns.lookup as unknown as Lookup);
  const answers = new Map<string, { at: number; all: LookupAddress[] }>();
  const waiting = new Map<string, Callback[]>();
  let hits = 0;
  let misses = 0;

  const give = (all: LookupAddress[], options: LookupOptions, cb: Callback) => {
    if (options.all) cb(null, all);
    else cb(null, all[0]!.address, all[0]!.family);
  };

  const lookup: Lookup = (hostname, options, callback) => {
    const opts = typeof options === 'object' && options !== null ? options : {};
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : Number(opts.family ?? 0);
    // Always asked for every address, so one answer serves `all` and single lookups alike (and the
    // first caller's getaddrinfo hints serve the name's later callers too).
    const key = `${hostname.toLowerCase()}|${family}`;
    const hit = answers.get(key);
    if (hit && now() - hit.at < ttlMs) {
      hits++;
      return give(hit.all, opts, callback);
    }
    const queue = waiting.get(key);
    const mine: Callback = (err, address) => {
      if (err) return callback(err, '');
      give(address as LookupAddress[], opts, callback);
    };
    if (queue) {
      hits++;
      queue.push(mine);
      return;
    }
    misses++;
    waiting.set(key, [mine]);
    ask(hostname, { family, all: true, ...(opts.hints ? { hints: opts.hints } : {}) }, (err, address) => {
      const all = waiting.get(key) ?? [];
      waiting.delete(key);
      const list = Array.isArray(address) ? address : [];
      if (!err && list.length > 0) {
        answers.delete(key);
        answers.set(key, { at: now(), all: list });
        if (answers.size > maxEntries) answers.delete(answers.keys().next().value!);
      }
      const e =
        err ??
        (list.length === 0
          ? Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname })
          : null);
      for (const cb of all) cb(e, list);
    });
  };

  return {
    lookup,
    resolve: (hostname) =>
      isIP(hostname)
        ? Promise.resolve(hostname)
        : new Promise((resolve, reject) =>
            lookup(hostname, {}, (err, address) => (err ? reject(err) : resolve(address as string))),
          ),
    stats: () => ({ hits, misses, entries: answers.size }),
    clear: () => {
      answers.clear();
      hits = 0;
      misses = 0;
    },
  };
}

/** The worker's one cache, shared by every probe it runs. */
export const probeLookups = createLookupCache();
