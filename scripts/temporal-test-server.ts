/**
 * Temporal's time-skipping test server for workflow tests that cross days, weeks and DST changes.
 *
 * The TypeScript SDK's `TestWorkflowEnvironment.createTimeSkipping()` downloads a native build of it,
 * which this project never does. The same server is published on Maven Central as
 * `io.temporal:temporal-test-server` (Java): it is resolved once with Maven into
 * `${XDG_CACHE_HOME:-~/.cache}/incident-orchestrator/temporal-test-server-<version>/` (jars, a
 * `classpath` file, and scripts/java/LoopbackTestServer.java compiled there, which binds 127.0.0.1
 * only), with a progress line every 15 s; afterwards it starts from the cache. Needs `java`, `javac`
 * and `mvn` (Java 17 and Maven Central are on the development machines).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from './temporal-cli.js';

export const TEST_SERVER_VERSION = '1.31.0';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const launcherSource = path.join(root, 'scripts', 'java', 'LoopbackTestServer.java');

export function defaultTestServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'incident-orchestrator', `temporal-test-server-${TEST_SERVER_VERSION}`);
}

const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.incident-orchestrator</groupId>
  <artifactId>temporal-test-server-launcher</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>2.0.16</version></dependency>
  </dependencies>
</project>
`;

function run(cmd: string, args: string[], cwd: string, log: (l: string) => void, what: string) {
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const out: string[] = [];
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => {
      out.push(b.toString());
      if (out.length > 50) out.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const tick = setInterval(
      () => log(`still ${what}… ${Math.round((Date.now() - started) / 1000)} s`),
      15_000,
    );
    child.once('error', (e) => {
      clearInterval(tick);
      reject(e);
    });
    child.once('exit', (code) => {
      clearInterval(tick);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${what} failed: \`${cmd} ${args.join(' ')}\` exited with ${code}\n${out.join('').slice(-3000)}`,
          ),
        );
    });
  });
}

/**
 * The launcher script (`<dir>/test-server <port>`), resolving and compiling it first if the cache
 * does not have it. Throws one clear line when java, javac or mvn is missing.
 */
export async function ensureTemporalTestServer(
  o: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const log = o.log ?? ((l: string) => console.log(`[temporal-test-server] ${l}`));
  const dir = o.cacheDir ?? defaultTestServerCacheDir();
  const launcher = path.join(dir, 'test-server');
  if (fs.existsSync(launcher)) return launcher;
  for (const tool of ['java', 'javac', 'mvn'])
    if (!which(tool, process.env))
      throw new Error(
        `${tool} is not installed: the time-skipping Temporal test server is resolved with Maven and run on Java 17 (Debian: apt-get install openjdk-17-jdk-headless maven)`,
      );
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = fs.mkdtempSync(`${dir}.tmp-`);
  try {
    fs.writeFileSync(path.join(tmp, 'pom.xml'), pom);
    const repo = path.join(path.dirname(dir), 'maven-repository');
    log(
      `resolving io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central into ${dir} (once; about a minute)`,
    );
    await run(
      'mvn',
      ['-q', '-B', `-Dmaven.repo.local=${repo}`, 'dependency:copy-dependencies', '-DoutputDirectory=lib'],
      tmp,
      log,
      'resolving the test server with Maven',
    );
    const jars = fs
      .readdirSync(path.join(tmp, 'lib'))
      .filter((f) => f.endsWith('.jar'))
      .map((f) => path.join(dir, 'lib', f));
    const tmpClasspath = jars.map((j) => path.join(tmp, 'lib', path.basename(j))).join(':');
    await run(
      'javac',
      ['-cp', tmpClasspath, '-d', 'classes', launcherSource],
      tmp,
      log,
      'compiling the launcher',
    );
    fs.writeFileSync(
      path.join(tmp, 'test-server'),
      `#!/bin/sh\nexec java -Xss4m -cp '${[...jars, path.join(dir, 'classes')].join(':')}' LoopbackTestServer "$@"\n`,
      { mode: 0o755 },
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(`ready: ${launcher}`);
    return launcher;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Starts the server on `port` (127.0.0.1); the caller waits for it to answer and kills it. */
export function startTemporalTestServer(launcher: string, port: number): ChildProcess {
  return spawn(launcher, [String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function isMain(): boolean {
  const entry = process.argv[1];
  return !!entry && path.resolve(entry) === fileURLToPath(import.meta.url);
}

if (isMain()) {
  ensureTemporalTestServer().then(
    (p) => console.log(p),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
