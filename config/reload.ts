/**
 * Config without restarts: on SIGHUP, or when the file changes (stat-polled every second, so an
 * editor's rename-and-replace and a Kubernetes ConfigMap's symlink swap are seen too), the file is
 * validated again. A valid file is handed to `apply`; an invalid one is refused with every error,
 * and the configuration in force stays.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { ConfigError, loadConfigFile } from './load.js';
import type { Config } from '../domain/config-schema.js';

export interface ConfigWatch {
  /** Validates the file now and applies it if valid (what SIGHUP does). */
  reload(why: string): Promise<'applied' | 'refused' | 'unchanged'>;
  close(): void;
}

export function watchConfig(o: {
  file: string;
  current: Config;
  apply: (next: Config) => Promise<void> | void;
  log: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Poll interval of the file (default 1000 ms); 0 → SIGHUP only. */
  intervalMs?: number;
  /** Listen for SIGHUP (default true). */
  sighup?: boolean;
}): ConfigWatch {
  let running: Promise<'applied' | 'refused' | 'unchanged'> = Promise.resolve('unchanged');
  let current = JSON.stringify(o.current);

  const once = async (why: string): Promise<'applied' | 'refused' | 'unchanged'> => {
    let next: Config;
    try {
      next = loadConfigFile(o.file, o.env ?? process.env);
    } catch (e) {
      const what = e instanceof ConfigError ? e.message : (e as Error).message;
      o.log(`config reload (${why}) refused, the running configuration stays: ${what}`);
      return 'refused';
    }
    const text = JSON.stringify(next);
    if (text === current) return 'unchanged';
    try {
      await o.apply(next);
    } catch (e) {
      o.log(`config reload (${why}) refused, the running configuration stays: ${(e as Error).message}`);
      return 'refused';
    }
    current = text;
    o.log(`config reloaded (${why}) from ${o.file}`);
    return 'applied';
  };
  // One reload at a time, in order.
  const reload = (why: string) =>
    (running = running.then(
      () => once(why),
      () => once(why),
    ));

  const onHup = () => void reload('SIGHUP');
  if (o.sighup !== false) process.on('SIGHUP', onHup);
  const interval = o.intervalMs ?? 1000;
  const onChange = (now: { mtimeMs: number; size: number }, prev: { mtimeMs: number; size: number }) => {
    if (now.mtimeMs !== prev.mtimeMs || now.size !== prev.size) void reload('file changed');
  };
  if (interval > 0) watchFile(o.file, { interval, persistent: false }, onChange);

  return {
    reload,
    close() {
      process.off('SIGHUP', onHup);
      if (interval > 0) unwatchFile(o.file, onChange);
    },
  };
}
