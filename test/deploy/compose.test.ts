/**
 * There is no Docker engine in CI, so docker-compose.yml and the Dockerfile are checked statically:
 * structure, wiring, the environment config/env.ts requires, and that no secret is written into them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envVars } from '../../config/env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const composeText = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: Array<string | number | { target?: number; published?: number | string }>;
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  env_file?: string | string[];
  healthcheck?: { test?: string | string[]; interval?: string; timeout?: string; retries?: number };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(composeText) as Compose;
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`service ${name} missing`);
  return s;
};

function environment(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const i = entry.indexOf('=');
        return i < 0 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

const dependsOn = (s: Service): string[] =>
  Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
const commandText = (c: string | string[] | undefined): string =>
  Array.isArray(c) ? c.join(' ') : (c ?? '');
const buildContext = (s: Service): string | undefined =>
  typeof s.build === 'string' ? s.build : s.build?.context;

/** `${NAME}`, `${NAME?msg}`, `${NAME:?msg}`, `${NAME-def}`, `${NAME:-def}` and nothing else around it. */
const interpolation = /^\$\{([A-Z_][A-Z0-9_]*)(?:(:?[?-])([^}]*))?\}$/;

const appServices = ['worker', 'api'] as const;

describe('docker-compose.yml', () => {
  it('has the Temporal stack, a mail catcher, the worker and the API', () => {
    for (const name of [
      'postgresql',
      'temporal',
      'temporal-admin-tools',
      'temporal-ui',
      'mailpit',
      'worker',
      'api',
    ]) {
      expect(services, name).toHaveProperty([name]);
    }
  });

  it('depends_on only names services that exist', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of dependsOn(s))
        expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
    }
  });

  it('wires the services up like temporalio/docker-compose', () => {
    expect(service('postgresql').image).toMatch(/^postgres:16\./);
    const temporal = service('temporal');
    expect(temporal.image).toMatch(/temporalio\/auto-setup:/);
    expect(dependsOn(temporal)).toContain('postgresql');
    const tenv = environment(temporal);
    expect(tenv.DB).toBe('postgres12');
    expect(tenv.POSTGRES_SEEDS).toBe('postgresql');
    expect(tenv.POSTGRES_USER).toBeTruthy();
    expect(tenv.POSTGRES_PWD).toBeTruthy();

    const ui = service('temporal-ui');
    expect(ui.image).toMatch(/temporalio\/ui:/);
    expect(environment(ui).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect((ui.ports ?? []).map(String)).toEqual(['127.0.0.1:8080:8080']);

    const mail = service('mailpit');
    expect(mail.image).toMatch(/^axllent\/mailpit:/);
    expect((mail.ports ?? []).map(String)).toEqual(['127.0.0.1:8025:8025']);

    expect((service('api').ports ?? []).map(String)).toEqual(['127.0.0.1:3000:3000']);
  });

  it('publishes nothing on all interfaces: every published port is bound to 127.0.0.1', () => {
    const published: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) {
        if (typeof p === 'object') {
          published.push(`${name}:${p.target}`);
          expect((p as { host_ip?: string }).host_ip, `${name}: ${JSON.stringify(p)}`).toBe('127.0.0.1');
          continue;
        }
        const text = String(p);
        published.push(`${name}:${text}`);
        // host_ip:published:target; "8080:8080" or "8080" binds every interface
        expect(text, `${name}: ${text}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      }
    }
    expect(published).toEqual(
      expect.arrayContaining(['temporal:127.0.0.1:7233:7233', 'api:127.0.0.1:3000:3000']),
    );
  });

  it("makes the worker's /metrics reachable on its network (WORKER_METRICS_ADDRESS, read by config/runtime.ts), not on the host", () => {
    const worker = service('worker');
    // The worker's default (127.0.0.1:9464) would be unreachable from Prometheus in another container.
    expect(environment(worker).WORKER_METRICS_ADDRESS).toBe('0.0.0.0:9464');
    expect(((worker as { expose?: Array<string | number> }).expose ?? []).map(String)).toContain('9464');
    expect((worker.ports ?? []).map(String).filter((p) => p.includes('9464'))).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'config/runtime.ts'), 'utf8')).toContain(
      'env.WORKER_METRICS_ADDRESS',
    );
  });

  it('pins every image to an exact version (no floating tags, no defaults a shell can change)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue; // this repo's image (its FROM lines are checked below)
      // PostgreSQL's releases are major.minor (16.10); everything else here is major.minor.patch
      const exact = s.image?.startsWith('postgres:')
        ? /^postgres:\d+\.\d+-[a-z]+$/
        : /^[a-z0-9./-]+:v?\d+\.\d+\.\d+[\w.-]*$/;
      expect(s.image, name).toMatch(exact);
    }
  });

  it('checks the health of temporal, the worker and the API, and starts each only on a healthy dependency', () => {
    const test = (name: string) => commandText(service(name).healthcheck?.test);
    expect(test('temporal')).toMatch(/^CMD temporal operator cluster health --address temporal:7233$/);
    expect(test('worker')).toMatch(/^CMD node dist\/deploy\/healthcheck\.js worker$/);
    expect(test('api')).toMatch(/^CMD node -e .*http:\/\/127\.0\.0\.1:3000\/readyz/);
    expect(fs.existsSync(path.join(root, 'deploy/healthcheck.ts'))).toBe(true);
    for (const name of ['temporal', 'worker', 'api']) {
      const h = service(name).healthcheck!;
      expect(h.interval, name).toMatch(/^\d+s$/);
      expect(h.retries, name).toBeGreaterThan(0);
    }
    const conditions = (s: Service) => (Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {}));
    for (const name of ['temporal-admin-tools', 'temporal-ui', 'worker', 'api'])
      expect(conditions(service(name)).temporal?.condition, name).toBe('service_healthy');
  });

  it('sets the default namespace retention on purpose: 90 days', () => {
    expect(environment(service('temporal')).DEFAULT_NAMESPACE_RETENTION).toBe('2160h');
    expect(composeText).toMatch(/Retention of the default namespace: 90 days \(2160h\)/);
  });

  it('requires SESSION_SECRET, ACK_LINK_SECRET, SMTP_URL and the database passwords, with a message', () => {
    const required = /^\$\{([A-Z_]+):\?.{10,}\}$/;
    const api = environment(service('api'));
    const worker = environment(service('worker'));
    expect(api.SESSION_SECRET).toMatch(required);
    expect(required.exec(api.SESSION_SECRET!)?.[1]).toBe('SESSION_SECRET');
    for (const env of [api, worker]) expect(required.exec(env.ACK_LINK_SECRET!)?.[1]).toBe('ACK_LINK_SECRET');
    expect(required.exec(worker.SMTP_URL!)?.[1]).toBe('SMTP_URL');
    expect(required.exec(environment(service('postgresql')).POSTGRES_PASSWORD!)?.[1]).toBe(
      'POSTGRES_PASSWORD',
    );
    expect(required.exec(environment(service('postgresql')).RECORDS_DB_PASSWORD!)?.[1]).toBe(
      'RECORDS_DB_PASSWORD',
    );
  });

  it('mounts the configuration read-only instead of baking it into the image', () => {
    for (const name of appServices) {
      const s = service(name);
      expect(environment(s).INCIDENT_CONFIG, name).toBe('/etc/incident-orchestrator/config.yaml');
      expect(s.volumes, name).toContain(
        '${INCIDENT_CONFIG_FILE:-./config/example.yaml}:/etc/incident-orchestrator/config.yaml:ro',
      );
    }
  });

  it('creates the record store database with its own user and gives worker and API its DATABASE_URL', () => {
    const pg = service('postgresql');
    expect(pg.volumes).toContain(
      './deploy/postgres/10-records-database.sh:/docker-entrypoint-initdb.d/10-records-database.sh:ro',
    );
    expect(fs.statSync(path.join(root, 'deploy/postgres/10-records-database.sh')).mode & 0o111).not.toBe(0);
    for (const name of appServices) {
      const url = environment(service(name)).DATABASE_URL!;
      expect(url, name).toMatch(
        /^postgres:\/\/incidents:\$\{RECORDS_DB_PASSWORD:\?[^}]+\}@postgresql:5432\/incidents$/,
      );
      expect(dependsOn(service(name)), name).toContain('postgresql');
    }
  });

  it('registers the custom search attributes from temporal-admin-tools once Temporal is up', () => {
    const tools = service('temporal-admin-tools');
    expect(tools.image).toMatch(/temporalio\/admin-tools:/);
    expect(dependsOn(tools)).toContain('temporal');
    const script = commandText(tools.command).replace(/\\\n\s*/g, ' ');
    expect(script).toMatch(
      /temporal operator search-attribute create --address temporal:7233 .*--name IncidentService --type Keyword\s+--name IncidentSeverity --type Keyword\s+--name IncidentState --type Keyword/,
    );
    // waits for the server (and its namespace) before creating them
    expect(script.indexOf('until temporal operator')).toBeLessThan(script.indexOf('search-attribute create'));
  });

  it('builds the worker and the API from this repo, running the compiled worker/main and api/server', () => {
    expect(buildContext(service('worker'))).toMatch(/^\.\/?$/);
    expect(buildContext(service('api'))).toMatch(/^\.\/?$/);
    expect(commandText(service('worker').command)).toBe('node dist/worker/main.js');
    expect(commandText(service('api').command)).toBe('node dist/api/server.js');
    for (const name of appServices) {
      expect(dependsOn(service(name)), name).toContain('temporal');
    }
    expect(dependsOn(service('worker'))).toContain('mailpit');
  });

  for (const name of appServices) {
    it(`sets every env var config/env.ts requires in production for the ${name}`, () => {
      const env = environment(service(name));
      const required = envVars.filter((v) => v.requiredInProduction && v.usedBy.includes(name));
      expect(required.length).toBeGreaterThan(0);
      for (const v of required) {
        expect(env[v.name], `${name}: ${v.name}`).toBeTruthy();
      }
    });

    it(`sets no unknown env vars on the ${name} (typo guard)`, () => {
      const known = new Set(envVars.filter((v) => v.usedBy.includes(name)).map((v) => v.name));
      for (const key of Object.keys(environment(service(name)))) {
        // TEMPORAL_* also covers the Temporal envconfig variables (TEMPORAL_API_KEY, TEMPORAL_TLS_*, ...)
        expect(known.has(key) || key.startsWith('TEMPORAL_'), `${name}: ${key}`).toBe(true);
      }
    });
  }

  it('uses the container values the services need to reach each other', () => {
    const worker = environment(service('worker'));
    const api = environment(service('api'));
    // the bundled catcher is named in the message; a real server is the operator's choice
    expect(worker.SMTP_URL).toMatch(/smtp:\/\/mailpit:1025\?tls=off/);
    for (const env of [worker, api]) {
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.TEMPORAL_NAMESPACE).toBe('default');
      expect(env.DATA_DIR).toBe('/data');
    }
    expect(api.HOST).toBe('0.0.0.0');
    expect(api.PORT).toBe('3000');
  });

  it('gives worker and API the same named volume at /data', () => {
    const dataVolume = (s: Service) =>
      (s.volumes ?? [])
        .map((v) => (typeof v === 'string' ? v.split(':') : [v.source ?? '', v.target ?? '']))
        .find(([, target]) => target === '/data')?.[0];
    const workerVolume = dataVolume(service('worker'));
    expect(workerVolume).toMatch(/^[a-z][a-z0-9_-]*$/); // a named volume, not a host path
    expect(dataVolume(service('api'))).toBe(workerVolume);
    expect(Object.keys(compose.volumes ?? {})).toContain(workerVolume);
  });

  it('writes no secret into the file: secrets come from ${...} interpolation without defaults', () => {
    const secretNames = new Set(envVars.filter((v) => v.secret).map((v) => v.name));
    const looksSecret = /PASSWORD|PASS$|PWD|TOKEN|SECRET|API_KEY|PRIVATE_KEY/;
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environment(s))) {
        if (key === 'DATABASE_URL') {
          // the password part only, from the environment
          expect(value, `${name}: DATABASE_URL`).toMatch(/^postgres:\/\/[a-z]+:\$\{[A-Z_]+:\?[^}]+\}@/);
          continue;
        }
        if (key === 'SMTP_URL') {
          // a mail catcher needs no credentials; real ones must come from the environment
          if (interpolation.test(value)) continue;
          const url = new URL(value);
          expect(url.password, `${name}: SMTP_URL must not contain a password`).toBe('');
          expect(url.username, `${name}: SMTP_URL must not contain a user`).toBe('');
          continue;
        }
        if (!secretNames.has(key) && !looksSecret.test(key)) continue;
        const m = interpolation.exec(value);
        expect(m, `${name}: ${key}=${value} must be \${${key}...} interpolation`).not.toBeNull();
        expect(m?.[2] ?? '', `${name}: ${key} must not have a literal default`).not.toMatch(/-/);
      }
    }
    expect(environment(service('api')).STAFF_TOKENS).toMatch(/^\$\{STAFF_TOKENS:?\?[^}]+\}$/);
  });

  it('every ${...} in a value either has a default or fails with a message when unset', () => {
    const strings = (node: unknown): string[] =>
      typeof node === 'string'
        ? [node]
        : node !== null && typeof node === 'object'
          ? Object.values(node).flatMap(strings)
          : [];
    const uses = strings(compose).flatMap((s) => [...s.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? ''));
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) expect(use, `\${${use}}`).toMatch(/^[A-Z_][A-Z0-9_]*(:?-.*|:?\?.+)$/);
  });

  it('commits no env_file (secrets belong in the host environment or an untracked .env)', () => {
    for (const [name, s] of Object.entries(services)) expect(s.env_file, name).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const froms = instructions.filter((l) => l.startsWith('FROM '));
  const finalStage = instructions.slice(instructions.lastIndexOf(froms.at(-1)!));

  it('is a multi-stage build on node:20 images pinned to an exact version', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:20\.\d+\.\d+-bookworm-slim( AS [a-z-]+)?$/);
  });

  it('installs production dependencies only (npm ci --omit=dev) in a build stage', () => {
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev\b/);
    expect(finalStage.some((l) => /^RUN npm (ci|install)\b/.test(l))).toBe(false);
    expect(finalStage).toContain('COPY --from=deps /app/node_modules ./node_modules');
    // compiled JavaScript, no TypeScript (and no tsx) at run time
    expect(finalStage).toContain('COPY --from=build /app/dist ./dist');
    expect(finalStage.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))).toEqual([
      'COPY package.json ./',
    ]);
  });

  it('runs as a non-root user', () => {
    const user = finalStage.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    // and nothing runs after switching back
    expect(finalStage.slice(finalStage.indexOf(user!)).some((l) => l.startsWith('RUN '))).toBe(false);
  });

  it('runs the worker by default, as one node process (signals reach it directly)', () => {
    expect(instructions.at(-1)).toBe('CMD ["node", "dist/worker/main.js"]');
  });

  it('copies only paths that exist in the repo, and never node_modules or .env', () => {
    const copies = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const parts = copy.split(/\s+/).slice(1);
      const sources = parts.slice(0, -1).filter((p) => !p.startsWith('--'));
      for (const source of sources) {
        expect(source, copy).not.toMatch(/^(\.|node_modules|\.env|data)\/?$/);
        expect(fs.existsSync(path.join(root, source)), `${copy}: ${source} exists`).toBe(true);
      }
    }
  });
});
