/**
 * Vitest global setup: `node scripts/build.mjs`, as `npm start` runs it, so the tests that start the
 * worker and the API as processes run the compiled dist/ that production runs (the image test copies
 * it, the topology test and the drills start `node dist/worker/main.js`). Skipped in a second when
 * dist/ is newer than every source; about 30–60 s the first time, with progress lines.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default function setup() {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0)
    throw new Error('node scripts/build.mjs failed (see above): the compiled worker and API are missing');
}
