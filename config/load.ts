/**
 * Loads and validates the configuration file. Every problem is collected and reported with its path
 * (`services[2].policy: unknown policy "oncall"`); a file with any error is rejected as a whole.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import Value from 'typebox/value';
import type { TSchema } from 'typebox';
import { checkKinds, Config, minSecretLength, type Check } from '../domain/config-schema.js';
import { durationMs } from '../domain/duration.js';
import { postmortemIssues } from './postmortem-validation.js';
import { validateSchedule } from '../domain/schedule.js';
import { scheduleGapWarnings } from '../domain/oncall.js';
import { channelSecretNames } from '../domain/channels.js';
import { maintenanceErrors, type MaintenanceEntry } from '../domain/maintenance.js';
import { methodAddress } from '../domain/notification-plan.js';

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${source}: ${issues.length} configuration error${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** `/services/2/policy` → `services[2].policy` */
export function formatPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/**
 * `env`: the environment the keys named by `keyEnv` / `tokenEnv` come from; a value set there but
 * shorter than 24 characters is an error naming the path. Without it, those values are not looked at.
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv | undefined = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ path: '', message: `cannot read file: ${(e as Error).message}` }]);
  }
  return parseConfig(text, file, env);
}

/**
 * What is allowed but probably wrong, each with its path: a schedule with nobody on call for some
 * period of the next four weeks (named in the schedule's zone). Printed at start and shown in
 * `/readyz`; a page into such a gap escalates at once.
 */
export function configWarnings(config: Config, nowMs: number): ConfigIssue[] {
  return scheduleGapWarnings(config, nowMs);
}

/**
 * For process entry points: an invalid file prints every error with its path and exits with 2;
 * warnings are printed and start-up goes on.
 */
export function loadConfigOrExit(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    const config = loadConfigFile(file, env);
    for (const w of configWarnings(config, Date.now()))
      console.warn(`${file}: warning: ${w.path}: ${w.message}`);
    return config;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
}

export function parseConfig(text: string, source = 'config', env?: NodeJS.ProcessEnv): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  return validateConfig(doc.toJS(), source, env);
}

/** Validates a parsed document: schema first, then every cross-reference. Throws ConfigError. */
export function validateConfig(raw: unknown, source = 'config', env?: NodeJS.ProcessEnv): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(source, [
      { path: '', message: 'expected a mapping with contacts, policies, services, checks' },
    ]);
  const value = Value.Default(Config, structuredClone(raw)) as Record<string, unknown>;
  const checks = Array.isArray(value.checks) ? (value.checks as unknown[]) : [];
  // Checks are a union by kind: validate each against the kind it names, so every check's errors show.
  const issues = schemaIssues(Config, { ...value, checks: [] }, '');
  if (value.checks !== undefined && !Array.isArray(value.checks))
    issues.push({ path: 'checks', message: 'must be a list' });
  checks.forEach((check, i) => {
    const kind = (check as { kind?: unknown } | null)?.kind;
    const branch = Config.properties.checks.items.anyOf.find((b) => b.properties.kind.const === kind);
    if (!branch) {
      issues.push({
        path: `checks[${i}].kind`,
        message:
          kind === undefined
            ? `missing required field "kind" (one of ${checkKinds.join(', ')})`
            : `unknown probe kind ${JSON.stringify(kind)} (one of ${checkKinds.join(', ')})`,
      });
      return;
    }
    checks[i] = Value.Default(branch, check);
    issues.push(...schemaIssues(branch, checks[i], `checks[${i}]`));
  });
  value.checks = checks;
  // Cross-references are checked even when the schema failed, so one run shows every error; a
  // malformed part can make them throw, and then the schema errors already say what is wrong.
  try {
    const schemaPaths = new Set(issues.map((i) => i.path));
    issues.push(...crossReferenceIssues(value as Config).filter((i) => !schemaPaths.has(i.path)));
    if (env) issues.push(...secretIssues(value as Config, env));
  } catch {
    // see above
  }
  if (issues.length > 0) throw new ConfigError(source, dedupeIssues(issues));
  return value as Config;
}

function schemaIssues(schema: TSchema, value: unknown, prefix: string): ConfigIssue[] {
  const byPath = new Map<string, { keyword: string; message: string; params: unknown }[]>();
  for (const e of Value.Errors(schema, value)) {
    if (e.keyword === 'boolean') continue;
    const list = byPath.get(e.instancePath) ?? [];
    list.push({ keyword: e.keyword, message: e.message, params: e.params });
    byPath.set(e.instancePath, list);
  }
  const out: ConfigIssue[] = [];
  for (const [pointer, errors] of byPath) {
    const sub = formatPath(pointer);
    const path = prefix ? (sub ? `${prefix}${sub.startsWith('[') ? '' : '.'}${sub}` : prefix) : sub;
    if (errors.some((e) => e.keyword === 'anyOf')) {
      const isDuration = errors.some((e) => e.message.includes('(ms|s|m|h|d)'));
      out.push({
        path,
        message: isDuration
          ? 'expected a duration: seconds as a number, or a string such as 30s, 15m, 2h, 1d'
          : errors
              .filter((e) => e.keyword !== 'anyOf')
              .map((e) => e.message)
              .join(' or '),
      });
      continue;
    }
    for (const e of errors) {
      let message = e.message;
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperties?: string[] }).additionalProperties ?? [];
        message = `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((x) => `"${x}"`).join(', ')}`;
      } else if (e.keyword === 'required') {
        const req = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
        message = `missing required field${req.length > 1 ? 's' : ''} ${req.map((x) => `"${x}"`).join(', ')}`;
      } else if (pointer.endsWith('/fingerprint') && e.keyword === 'pattern') {
        message =
          'malformed host-key fingerprint: expected SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints it';
      } else if (pointer.endsWith('/email') && e.keyword === 'format') {
        message = 'not an email address';
      }
      out.push({ path, message });
    }
  }
  return out;
}

function dedupeIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\0${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Keys and tokens the config takes from the environment: set there, they must be long enough. */
function secretIssues(c: Config, env: NodeJS.ProcessEnv): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (path: string, name: string | undefined) => {
    const value = name ? env[name] : undefined;
    if (value && value.length < minSecretLength)
      issues.push({
        path,
        message: `${name} is shorter than ${minSecretLength} characters (use e.g. openssl rand -base64 32)`,
      });
  };
  // A configured channel's credentials and URLs: unset, nothing could be delivered on it.
  for (const { path, name } of channelSecretNames(c.channels ?? {}))
    if (!env[name]) issues.push({ path, message: `environment variable ${name} is not set` });
  c.integrations.forEach((g, i) => check(`integrations[${i}].keyEnv`, g.keyEnv));
  c.checks.forEach((k, i) => {
    if (k.kind === 'heartbeat') check(`checks[${i}].tokenEnv`, k.tokenEnv);
  });
  return issues;
}

function crossReferenceIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const ids = (kind: string, list: { id: string }[]) => {
    const seen = new Map<string, number>();
    list.forEach((x, i) => {
      if (seen.has(x.id)) add(`${kind}[${i}].id`, `duplicate id "${x.id}" (also ${kind}[${seen.get(x.id)}])`);
      else seen.set(x.id, i);
    });
    return new Set(seen.keys());
  };
  const contacts = ids('contacts', c.contacts);
  const teams = ids('teams', c.teams);
  const schedules = ids('schedules', c.schedules);
  const policies = ids('policies', c.policies);
  const services = ids('services', c.services);
  ids('checks', c.checks);

  issues.push(...contactMethodIssues(c));
  c.teams.forEach((t, i) => {
    t.webhooks.forEach((w, j) => {
      if (!w.url === !w.urlEnv) add(`teams[${i}].webhooks[${j}]`, 'give exactly one of url or urlEnv');
    });
    t.members.forEach((m, j) => {
      if (!contacts.has(m)) add(`teams[${i}].members[${j}]`, `unknown contact "${m}"`);
    });
    if (t.lead && !contacts.has(t.lead)) add(`teams[${i}].lead`, `unknown contact "${t.lead}"`);
  });

  const checkTargets = (path: string, targets: string[]) =>
    targets.forEach((t, j) => {
      if (t.startsWith('team:')) {
        if (!teams.has(t.slice(5))) add(`${path}[${j}]`, `unknown team "${t.slice(5)}"`);
      } else if (t.startsWith('schedule:')) {
        if (!schedules.has(t.slice(9))) add(`${path}[${j}]`, `unknown schedule "${t.slice(9)}"`);
      } else if (!contacts.has(t)) add(`${path}[${j}]`, `unknown contact "${t}"`);
    });
  const checkDuration = (path: string, d: unknown) => {
    try {
      durationMs(d as never);
    } catch (e) {
      add(path, (e as Error).message);
    }
  };

  // Participants, shift lengths, handoff times, zones, start dates, restriction windows (paths inside).
  c.schedules.forEach((s, i) => {
    issues.push(...validateSchedule(s, contacts, `schedules[${i}]`));
    if (s.handoffNotice !== undefined) checkDuration(`schedules[${i}].handoffNotice`, s.handoffNotice);
  });

  c.policies.forEach((p, i) => {
    p.levels.forEach((l, j) => {
      checkTargets(`policies[${i}].levels[${j}].notify`, l.notify);
      checkDuration(`policies[${i}].levels[${j}].ackTimeout`, l.ackTimeout);
    });
    if (p.finalFallback) checkTargets(`policies[${i}].finalFallback.notify`, p.finalFallback.notify);
    checkDuration(`policies[${i}].acknowledgementTimeout`, p.acknowledgementTimeout);
  });

  c.services.forEach((s, i) => {
    if (!contacts.has(s.owner)) add(`services[${i}].owner`, `unknown contact "${s.owner}"`);
    if (!policies.has(s.policy)) add(`services[${i}].policy`, `unknown policy "${s.policy}"`);
    if (s.communicationsContact && !contacts.has(s.communicationsContact))
      add(`services[${i}].communicationsContact`, `unknown contact "${s.communicationsContact}"`);
    s.dependsOn.forEach((d, j) => {
      if (d === s.id) add(`services[${i}].dependsOn[${j}]`, 'a service cannot depend on itself');
      else if (!services.has(d)) add(`services[${i}].dependsOn[${j}]`, `unknown service "${d}"`);
    });
    try {
      new Intl.DateTimeFormat('en', { timeZone: s.timezone });
    } catch {
      add(`services[${i}].timezone`, `unknown time zone "${s.timezone}"`);
    }
  });
  const cycle = findDependencyCycle(c);
  if (cycle)
    add(
      `services[${c.services.findIndex((s) => s.id === cycle[0])}].dependsOn`,
      `dependency cycle: ${cycle.join(' → ')}`,
    );

  c.checks.forEach((k: Check, i) => {
    if (!services.has(k.service)) add(`checks[${i}].service`, `unknown service "${k.service}"`);
    if (k.interval !== undefined) checkDuration(`checks[${i}].interval`, k.interval);
    if (k.timeout !== undefined) checkDuration(`checks[${i}].timeout`, k.timeout);
    if (k.kind === 'heartbeat') {
      checkDuration(`checks[${i}].period`, k.period);
      if (k.grace !== undefined) checkDuration(`checks[${i}].grace`, k.grace);
      if (!k.tokenSha256 && !k.tokenEnv)
        add(`checks[${i}]`, 'a heartbeat check needs tokenSha256 or tokenEnv');
    } else if (k.interval !== undefined) {
      try {
        const interval = durationMs(k.interval);
        const timeout = k.timeout !== undefined ? durationMs(k.timeout) : 10_000;
        if (interval < timeout)
          add(
            `checks[${i}].interval`,
            `interval (${interval / 1000}s) is below the probe's timeout (${timeout / 1000}s)`,
          );
      } catch {
        // reported above
      }
    }
    if ('auth' in k && k.auth && !k.auth.privateKeyPath && !k.auth.privateKeyEnv && !k.auth.passwordEnv)
      add(`checks[${i}].auth`, 'needs one of privateKeyPath, privateKeyEnv or passwordEnv');
    if (k.kind === 'sftpFileAge') checkDuration(`checks[${i}].maxAge`, k.maxAge);
  });

  const checkIds = new Set(c.checks.map((k) => k.id));
  c.maintenance.forEach((m, i) => {
    m.checks.forEach((id, j) => {
      if (!checkIds.has(id)) add(`maintenance[${i}].checks[${j}]`, `unknown check "${id}"`);
    });
    m.services.forEach((id, j) => {
      if (!services.has(id)) add(`maintenance[${i}].services[${j}]`, `unknown service "${id}"`);
    });
    if (m.checks.length === 0 && m.services.length === 0)
      add(`maintenance[${i}]`, 'name at least one check or service');
    for (const e of maintenanceErrors(m as MaintenanceEntry))
      add(`maintenance[${i}]${e.field ? `.${e.field}` : ''}`, e.message);
  });
  ids('integrations', c.integrations);
  c.integrations.forEach((g, i) => {
    if (!services.has(g.service)) add(`integrations[${i}].service`, `unknown service "${g.service}"`);
    (g.services ?? []).forEach((id, j) => {
      if (!services.has(id)) add(`integrations[${i}].services[${j}]`, `unknown service "${id}"`);
    });
    if (!g.keySha256 && !g.keyEnv)
      add(`integrations[${i}]`, 'needs keySha256 or keyEnv (the routing key / token is a secret)');
  });

  for (const sev of ['P0', 'P1', 'P2', 'P3'] as const) {
    const d = c.severities[sev].communicationDeadline;
    if (d !== undefined) checkDuration(`severities.${sev}.communicationDeadline`, d);
  }

  issues.push(...postmortemIssues(c));

  const inc = c.incidents;
  if (inc.verifyInterval !== undefined) checkDuration('incidents.verifyInterval', inc.verifyInterval);
  if (inc.recoveryInterval !== undefined) checkDuration('incidents.recoveryInterval', inc.recoveryInterval);
  return issues;
}

function findDependencyCycle(c: Config): string[] | undefined {
  const deps = new Map(c.services.map((s) => [s.id, s.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (d === id || !deps.has(d)) continue;
      const found = visit(d);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const s of c.services) {
    const found = visit(s.id);
    if (found) return found;
  }
  return undefined;
}

/** Contact methods and notification rules: each rule names a method, each method a configured channel. */
function contactMethodIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const channels = (c.channels ?? {}) as Record<string, unknown>;
  c.contacts.forEach((p, i) => {
    const ids = new Set(['email']);
    (p.methods ?? []).forEach((m, j) => {
      const path = `contacts[${i}].methods[${j}]`;
      if (ids.has(m.id)) issues.push({ path: `${path}.id`, message: `duplicate method id "${m.id}"` });
      ids.add(m.id);
      if (m.kind !== 'email' && channels[m.kind] === undefined)
        issues.push({
          path: `${path}.kind`,
          message: `channel "${m.kind}" is not configured (add channels.${m.kind})`,
        });
      const to = methodAddress(p, m);
      if (to === undefined) issues.push({ path: `${path}.to`, message: `a ${m.kind} method needs "to"` });
      if (m.kind === 'sms' && m.to !== undefined && !/^\+[1-9][0-9]{6,14}$/.test(m.to))
        issues.push({
          path: `${path}.to`,
          message: 'expected a phone number in E.164 form, e.g. +4791234567',
        });
      if (m.kind === 'ntfy' && m.to !== undefined && !/^[-_A-Za-z0-9]{1,64}$/.test(m.to))
        issues.push({
          path: `${path}.to`,
          message: 'expected an ntfy topic (letters, digits, - and _; at most 64)',
        });
    });
    (p.rules ?? []).forEach((r, j) => {
      if (!ids.has(r.method))
        issues.push({
          path: `contacts[${i}].rules[${j}].method`,
          message: `unknown method "${r.method}" (one of ${[...ids].join(', ')})`,
        });
      if (r.after !== 0) {
        try {
          durationMs(r.after as never);
        } catch (e) {
          issues.push({ path: `contacts[${i}].rules[${j}].after`, message: (e as Error).message });
        }
      }
    });
  });
  return issues;
}
