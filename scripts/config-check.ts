/**
 * `npm run config:check [file]`: validates a configuration file the way the worker and the API do at
 * start (and on reload), prints every error with its path and exits 2, or prints a short summary
 * and its warnings and exits 0. The file defaults to INCIDENT_CONFIG, then config/example.yaml.
 */
import path from 'node:path';
import { ConfigError, configWarnings, loadConfigFile } from '../config/load.js';

const file = path.resolve(process.argv[2] ?? process.env.INCIDENT_CONFIG ?? 'config/example.yaml');
try {
  const c = loadConfigFile(file, process.env);
  for (const w of configWarnings(c, Date.now())) console.warn(`${file}: warning: ${w.path}: ${w.message}`);
  console.log(
    `${file}: ok (${c.services.length} services, ${c.checks.length} checks, ${c.policies.length} policies, ${c.integrations.length} integrations)`,
  );
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : `${file}: ${(e as Error).message}`);
  process.exit(2);
}
