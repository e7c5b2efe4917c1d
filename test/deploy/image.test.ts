/**
 * The image, without Docker: the file set the Dockerfile's final stage copies is assembled in a temp
 * folder (node_modules, which the build stage installs with `npm ci --omit=dev`, linked from this
 * checkout), and the image's own command starts the worker and the API from there against the test
 * Temporal server. A directory the code imports but the Dockerfile does not copy (client/, once) makes
 * the process die with ERR_MODULE_NOT_FOUND here, as it would in the container. The compose health
 * checks (deploy/healthcheck.ts) run from the same file set. The record store is a real PostgreSQL
 * set up by compose's init script (deploy/postgres/10-records-database.sh), used as its own user.
 */
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../scripts/dev-server.js';
import { spawnTracked, type Proc } from '../helpers/processes.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

interface Stage {
  name?: string;
  lines: string[];
}

/** The Dockerfile as stages of instructions (continuations joined, comments dropped). */
export function dockerStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ name: from[1], lines: [line] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

/** The exec-form CMD of a stage. */
function execForm(stage: Stage, instruction: 'CMD' | 'ENTRYPOINT'): string[] | undefined {
  const line = stage.lines.filter((l) => l.startsWith(`${instruction} `)).at(-1);
  return line ? (JSON.parse(line.slice(instruction.length + 1)) as string[]) : undefined;
}

/**
 * Lays out what the final stage's COPY lines put into the image, under `dir` as `/`. Returns the
 * image's WORKDIR inside `dir`.
 */
function assembleImage(stages: Stage[], dir: string): string {
  const final = stages.at(-1)!;
  let workdir = '/';
  for (const line of final.lines) {
    const wd = /^WORKDIR\s+(\S+)$/.exec(line);
    if (wd) workdir = path.posix.resolve(workdir, wd[1]!);
    if (/^RUN npm ci\b/.test(line) && !fs.existsSync(path.join(dir, workdir, 'node_modules'))) {
      // a single-stage build installs in place
      fs.mkdirSync(path.join(dir, workdir), { recursive: true });
      fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, workdir, 'node_modules'), 'dir');
    }
    if (!line.startsWith('COPY ')) continue;
    const words = line.split(/\s+/).slice(1);
    const flags = words.filter((w) => w.startsWith('--'));
    const args = words.filter((w) => !w.startsWith('--'));
    const dest = args.pop()!;
    const target = (src: string) => {
      const d = path.posix.resolve(workdir, dest);
      return path.join(dir, dest.endsWith('/') ? path.posix.join(d, path.posix.basename(src)) : d);
    };
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    if (from) {
      // What a build stage made: its production node_modules, or the dist/ that `node scripts/build.mjs`
      // compiles (the test setup built this checkout's, test/setup/build.ts).
      const stage = stages.find((s) => s.name === from);
      expect(stage, `${line}: stage ${from}`).toBeDefined();
      const t = target(args[0]!);
      fs.mkdirSync(path.dirname(t), { recursive: true });
      if (args[0] === '/app/dist') {
        expect(stage!.lines.join('\n'), `${from} builds dist/`).toMatch(/RUN node scripts\/build\.mjs\b/);
        fs.cpSync(path.join(root, 'dist'), t, { recursive: true });
        continue;
      }
      expect(args, line).toEqual([`${path.posix.resolve('/app', 'node_modules')}`]);
      expect(stage!.lines.join('\n'), `${from} installs production dependencies`).toMatch(
        /RUN npm ci --omit=dev\b/,
      );
      fs.symlinkSync(path.join(root, 'node_modules'), t, 'dir');
      continue;
    }
    for (const src of args) {
      const t = target(src);
      fs.mkdirSync(path.dirname(t), { recursive: true });
      fs.cpSync(path.join(root, src), t, { recursive: true });
    }
  }
  return path.join(dir, workdir);
}

/** Bare module specifiers imported by the TypeScript under `dir` (not node_modules). */
function importedPackages(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.name === 'node_modules') continue;
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|mjs)$/.test(e.name)) {
        const src = fs.readFileSync(p, 'utf8');
        for (const m of src.matchAll(
          /(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g,
        )) {
          const spec = m[1] ?? m[2] ?? m[3]!;
          if (spec.startsWith('.') || spec.startsWith('node:') || spec.startsWith('/')) continue;
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!out.has(name)) out.set(name, path.relative(dir, p));
        }
      }
    }
  };
  walk(dir);
  return out;
}

const minimalConfig = `
contacts:
  - { id: kari, name: Kari Nordmann, email: kari@test.local }
policies:
  - id: chain
    levels: [{ notify: [kari], ackTimeout: 5m }]
    repeat: 0
    finalFallback: { notify: [kari] }
    acknowledgementTimeout: 10m
services:
  - { id: image-svc, name: Image test service, owner: kari, policy: chain, severity: P2 }
`;

const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const stages = dockerStages(dockerfile);

describe('the image file set (Dockerfile COPY lines)', () => {
  let tmp: string;
  let app: string;
  let env: NodeJS.ProcessEnv;
  let pg: TestPostgres | undefined;
  const procs: Proc[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    const password = `records-${Date.now()}-secret`;
    const init = pg.runInitScript(path.join(root, 'deploy/postgres/10-records-database.sh'), {
      RECORDS_DB_PASSWORD: password,
    });
    expect(init.status, init.output).toBe(0);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'image-files-'));
    app = assembleImage(stages, path.join(tmp, 'root'));
    fs.writeFileSync(path.join(tmp, 'config.yaml'), minimalConfig);
    env = { ...process.env };
    for (const k of Object.keys(env))
      if (/^(SMTP_URL|ACK_LINK_SECRET|SESSION_SECRET|STAFF_TOKENS|DATABASE_URL|TEMPORAL_)/.test(k))
        delete env[k];
    Object.assign(env, {
      NODE_ENV: 'production',
      INCIDENT_CONFIG: path.join(tmp, 'config.yaml'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: `image-test-${process.pid}-${Date.now()}`,
      DATA_DIR: path.join(tmp, 'data'),
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'info',
      // as docker-compose.yml builds it, with this server's address
      DATABASE_URL: `postgres://incidents:${password}@127.0.0.1:${pg.port}/incidents`,
    });
  }, 120_000);
  afterAll(async () => {
    for (const p of procs) await p.stop(5000);
    await pg?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The image's command (CMD, or `command:` in compose), run from the assembled file set. */
  const run = (argv: string[], name: string) => {
    const [cmd, ...args] = argv;
    const p = spawnTracked(cmd === 'node' ? process.execPath : cmd!, args, { cwd: app, env, name });
    procs.push(p);
    return p;
  };
  const healthcheck = (which: 'worker' | 'api') =>
    spawnSync(process.execPath, ['dist/deploy/healthcheck.js', which], {
      cwd: app,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('imports only packages that `npm ci --omit=dev` installs (dependencies, not devDependencies)', () => {
    const used = importedPackages(app);
    expect(used.size).toBeGreaterThan(5);
    for (const [name, file] of used) {
      if (builtinModules.includes(name)) continue;
      expect(Object.keys(pkg.dependencies), `${file} imports ${name}`).toContain(name);
    }
  });

  it("starts the worker with the image's default command, and it polls its task queue", async () => {
    const cmd = execForm(stages.at(-1)!, 'CMD');
    expect(cmd).toBeDefined();
    const worker = run(cmd!, 'worker (image files)');
    // Bundling the workflows from the image's files happens before this line.
    await worker.waitForOutput(/polling task queue/, 150_000);
    // The compose health check finds this host's poller (it may take a moment to show).
    let r = healthcheck('worker');
    for (let i = 0; i < 20 && r.status !== 0; i++) {
      await new Promise((res) => setTimeout(res, 500));
      r = healthcheck('worker');
    }
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/healthy/);
  }, 200_000);

  it('starts the API from the same files; /readyz answers 200 and the compose health check passes', async () => {
    const api = run(['node', 'dist/api/server.js'], 'api (image files)');
    const url = `http://127.0.0.1:${env.PORT}/readyz`;
    let status = 0;
    for (let i = 0; i < 120 && status !== 200; i++) {
      if (!api.running()) throw new Error(`the API exited:\n${api.output().slice(-4000)}`);
      status = await fetch(url).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((res) => setTimeout(res, 500));
    }
    expect(status, api.output().slice(-2000)).toBe(200);
    const r = healthcheck('api');
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 120_000);

  it('stops both cleanly on SIGTERM (exit code 0), and the API health check then fails', async () => {
    for (const p of procs) {
      const exit = await p.stop(15_000);
      expect(exit, p.output().slice(-2000)).toEqual({ code: 0, signal: null });
    }
    const r = healthcheck('api');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unhealthy/);
  }, 60_000);
});
