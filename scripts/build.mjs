/**
 * `npm run build`: compiles the code the worker, the API and `npm start` run into dist/ (tsc with
 * tsconfig.build.json), copies the SQL migrations next to the compiled store, and bundles the
 * workflows once into dist/workflow-bundle.js, so a worker starts with plain `node` and loads a
 * ready bundle instead of transpiling TypeScript and running webpack at every start.
 *
 * Plain JavaScript on purpose: it is what builds the rest. It skips the work when dist/ is newer than
 * every source file (`npm start` runs it each time; an unchanged checkout costs a directory walk).
 * `--force` builds anyway.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const stamp = path.join(dist, '.built');
const bundleFile = path.join(dist, 'workflow-bundle.js');
/** The same workflows with the OpenTelemetry workflow interceptors, for a worker that traces. */
const tracedBundleFile = path.join(dist, 'workflow-bundle-traced.js');
/** What the build reads: the folders tsconfig.build.json compiles, the migrations, the build config. */
const sources = [
  'workflows',
  'activities',
  'domain',
  'worker',
  'api',
  'config',
  'client',
  'store',
  'deploy',
  'scripts',
];
const say = (m) => console.log(`[build] ${m}`);

function newestSource() {
  let newest = 0;
  const walk = (p) => {
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== 'node_modules' && e !== 'java') walk(path.join(p, e));
    } else if (/\.(ts|mts|sql|json)$/.test(p)) newest = Math.max(newest, s.mtimeMs);
  };
  for (const d of sources) if (existsSync(path.join(root, d))) walk(path.join(root, d));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.mjs'])
    newest = Math.max(newest, statSync(path.join(root, f)).mtimeMs);
  return newest;
}

async function main() {
  const force = process.argv.includes('--force');
  const newest = newestSource();
  const built = existsSync(stamp) ? Number(readFileSync(stamp, 'utf8').trim()) : 0;
  if (!force && existsSync(bundleFile) && existsSync(tracedBundleFile) && built >= newest) {
    say('dist/ is up to date');
    return;
  }
  const started = Date.now();
  say('compiling TypeScript into dist/ (tsc -p tsconfig.build.json)…');
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error('[build] tsc failed: nothing was started');
    process.exit(1);
  }
  mkdirSync(path.join(dist, 'store/migrations'), { recursive: true });
  cpSync(path.join(root, 'store/migrations'), path.join(dist, 'store/migrations'), { recursive: true });
  say(`compiled in ${((Date.now() - started) / 1000).toFixed(1)} s; bundling the workflows…`);
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const logger = {
    trace() {},
    debug() {},
    info() {},
    warn: (m) => say(`bundler: ${m}`),
    error: (m) => say(`bundler: ${m}`),
    log() {},
  };
  const workflowsPath = path.join(dist, 'workflows/index.js');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger });
  writeFileSync(bundleFile, code);
  say('bundling the workflows with the OpenTelemetry interceptors (used when tracing is on)…');
  const traced = await bundleWorkflowCode({
    workflowsPath,
    logger,
    workflowInterceptorModules: [
      require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
    ],
  });
  writeFileSync(tracedBundleFile, traced.code);
  // The newest source this build read: a file changed while it ran makes the next start build again.
  writeFileSync(stamp, `${newest}\n`);
  say(
    `built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s (workflow bundle ${(code.length / 1024).toFixed(0)} KiB)`,
  );
}

main().catch((e) => {
  console.error(`[build] ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
