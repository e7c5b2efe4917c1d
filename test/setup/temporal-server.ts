/**
 * Vitest global setup: one real Temporal dev server (the CLI the project builds) for the whole run,
 * bound to loopback, and the workflow code bundled once. Tests get both through `inject`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureTemporalCli } from '../../scripts/temporal-cli.js';
import { devServerArgs, freePort, waitForTemporal } from '../../scripts/dev-server.js';
import { workflowsPath } from '../../worker/create.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    temporalCli: string;
  }
}

let server: ChildProcess | undefined;
let tmp: string | undefined;

export default async function setup(project: TestProject) {
  const cli = await ensureTemporalCli({ log: (l) => console.log(`[temporal-cli] ${l}`) });
  const port = await freePort();
  server = spawn(cli, devServerArgs(port), { stdio: ['ignore', 'ignore', 'inherit'] });
  const address = `127.0.0.1:${port}`;
  await waitForTemporal(address);

  tmp = mkdtempSync(path.join(tmpdir(), 'incident-bundle-'));
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietLogger });
  writeFileSync(bundlePath, code);

  project.provide('temporalAddress', address);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('temporalCli', cli);

  return async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
