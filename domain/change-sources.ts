/**
 * Change events as the tools that make changes send them, read into the change log's shape
 * (domain/changes.ts): CDEvents `dev.cdevents.service.deployed`, GitHub `deployment_status` webhooks
 * and GitLab deployment webhooks. Pure: no I/O, no clock. Each reader answers the change, a reason to
 * ignore the event (a deployment still running), or the first field that is wrong and why.
 */

/** What the change log records (the API adds who recorded it and when). */
export interface SourcedChange {
  id: string;
  who: string;
  what: string;
  hosts: string[];
  services: string[];
  at: string;
}

export type ChangeReading =
  { change: SourcedChange } | { ignored: string } | { field: string; message: string };

/** Where the sender's URL names extra services and hosts (`?services=a,b&hosts=h`). */
export interface ChangeTargets {
  services?: string[];
  hosts?: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const wrong = (field: string, message: string): ChangeReading => ({ field, message });

/** The host of a URL, or nothing (an empty or unparsable URL). */
function hostOf(url: unknown): string[] {
  const s = str(url);
  if (!s) return [];
  try {
    const h = new URL(s).hostname;
    return h ? [h.replace(/^\[|\]$/g, '')] : [];
  } catch {
    return [];
  }
}

const uniq = (xs: string[]) => [...new Set(xs.filter(Boolean))];
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const iso = (s: string) => new Date(s).toISOString();
const validDate = (s: string | undefined) => s !== undefined && !Number.isNaN(Date.parse(s));

function finish(c: SourcedChange, t: ChangeTargets): ChangeReading {
  return {
    change: {
      ...c,
      id: clip(c.id, 200),
      who: clip(c.who, 200),
      what: clip(c.what, 2000),
      hosts: uniq([...c.hosts, ...(t.hosts ?? [])]).slice(0, 100),
      services: uniq([...c.services, ...(t.services ?? [])]).slice(0, 100),
    },
  };
}

// ---- CDEvents ---------------------------------------------------------------------------------------

/** `dev.cdevents.service.deployed.<version>` (the spec versions the type: 0.1.1, 0.2.0, …). */
export const cdeventsServiceDeployed = /^dev\.cdevents\.service\.deployed\.\d+\.\d+\.\d+(-[\w.]+)?$/;

/**
 * A CDEvent (`{context, subject}`, as the CDEvents spec's examples are), or a CloudEvent in structured
 * mode carrying one in `data`. Only `service.deployed` is a change here.
 */
export function readCdevent(body: unknown, t: ChangeTargets = {}): ChangeReading {
  if (!isObj(body)) return wrong('body', 'must be a JSON object (a CDEvent)');
  const event = isObj(body.data) && !isObj(body.context) ? body.data : body;
  const prefix = event === body ? '' : 'data.';
  const context = event.context;
  if (!isObj(context)) return wrong(`${prefix}context`, 'is required (an object)');
  const type = str(context.type);
  if (!type) return wrong(`${prefix}context.type`, 'is required');
  if (!cdeventsServiceDeployed.test(type))
    return type.startsWith('dev.cdevents.')
      ? { ignored: `${type} is not a deployment (only dev.cdevents.service.deployed is recorded)` }
      : wrong(`${prefix}context.type`, `must be dev.cdevents.service.deployed.<version>, not "${type}"`);
  const id = str(context.id);
  if (!id) return wrong(`${prefix}context.id`, 'is required');
  const source = str(context.source);
  if (!source) return wrong(`${prefix}context.source`, 'is required');
  const timestamp = str(context.timestamp);
  if (!validDate(timestamp)) return wrong(`${prefix}context.timestamp`, 'must be an RFC 3339 date-time');
  const subject = event.subject;
  if (!isObj(subject)) return wrong(`${prefix}subject`, 'is required (an object)');
  const service = str(subject.id);
  if (!service) return wrong(`${prefix}subject.id`, 'is required (the service deployed)');
  const content = subject.content;
  if (!isObj(content)) return wrong(`${prefix}subject.content`, 'is required (an object)');
  if (!isObj(content.environment)) return wrong(`${prefix}subject.content.environment`, 'is required');
  const environment = str(content.environment.id);
  if (!environment) return wrong(`${prefix}subject.content.environment.id`, 'is required');
  const artifact = str(content.artifactId);
  if (!artifact) return wrong(`${prefix}subject.content.artifactId`, 'is required');
  return finish(
    {
      id: `cdevents:${source}:${id}`,
      who: source,
      what: `deployed ${service} (${artifact}) to ${environment} (CDEvents service.deployed)`,
      hosts: [],
      services: [service],
      at: iso(timestamp!),
    },
    t,
  );
}

// ---- GitHub -----------------------------------------------------------------------------------------

/** Deployment states that changed something (a failed deploy may have changed half the hosts). */
const githubFinal = new Set(['success', 'failure', 'error']);

/** A `deployment_status` webhook body (X-GitHub-Event: deployment_status). */
export function readGithubDeploymentStatus(body: unknown, t: ChangeTargets = {}): ChangeReading {
  if (!isObj(body)) return wrong('body', 'must be a JSON object (a deployment_status event)');
  const status = body.deployment_status;
  if (!isObj(status)) return wrong('deployment_status', 'is required (an object)');
  const state = str(status.state);
  if (!state) return wrong('deployment_status.state', 'is required');
  const deployment = body.deployment;
  if (!isObj(deployment)) return wrong('deployment', 'is required (an object)');
  const repository = body.repository;
  if (!isObj(repository)) return wrong('repository', 'is required (an object)');
  const fullName = str(repository.full_name);
  if (!fullName) return wrong('repository.full_name', 'is required');
  if (typeof status.id !== 'number' && !str(status.id)) return wrong('deployment_status.id', 'is required');
  if (!githubFinal.has(state))
    return { ignored: `deployment_status.state is ${state}: only success, failure and error are changes` };
  const at = str(status.updated_at) ?? str(status.created_at);
  if (!validDate(at)) return wrong('deployment_status.created_at', 'must be an ISO 8601 date-time');
  const environment = str(status.environment) ?? str(deployment.environment) ?? 'an environment';
  const sha = str(deployment.sha);
  const ref = str(deployment.ref);
  const description = str(status.description) ?? str(deployment.description);
  const creator = isObj(status.creator) ? str(status.creator.login) : undefined;
  const sender = isObj(body.sender) ? str(body.sender.login) : undefined;
  return finish(
    {
      id: `github:${fullName}:deployment_status:${String(status.id)}`,
      who: creator ?? sender ?? 'GitHub',
      what:
        `GitHub deployment of ${fullName}${sha ? `@${sha.slice(0, 12)}` : ''}${ref ? ` (${ref})` : ''} to ${environment}: ${state}` +
        (description ? ` — ${description}` : ''),
      hosts: hostOf(status.environment_url),
      services: uniq([str(repository.name) ?? fullName.split('/').at(-1)!]),
      at: iso(at!),
    },
    t,
  );
}

// ---- GitLab -----------------------------------------------------------------------------------------

const gitlabFinal = new Set(['success', 'failed']);

/** GitLab writes `2021-04-28 21:50:00 +0200` or `… UTC`; as ISO 8601, or undefined. */
export function gitlabTime(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?)\s*(UTC|Z|[+-]\d\d:?\d\d)?$/.exec(s.trim());
  const t = m
    ? `${m[1]}T${m[2]}${!m[3] || m[3] === 'UTC' || m[3] === 'Z' ? 'Z' : m[3].replace(/^([+-]\d\d)(\d\d)$/, '$1:$2')}`
    : s;
  return Number.isNaN(Date.parse(t)) ? undefined : new Date(t).toISOString();
}

/** A deployment webhook body (X-Gitlab-Event: Deployment Hook, `object_kind: deployment`). */
export function readGitlabDeployment(body: unknown, t: ChangeTargets = {}): ChangeReading {
  if (!isObj(body)) return wrong('body', 'must be a JSON object (a deployment event)');
  const kind = str(body.object_kind);
  if (kind !== 'deployment')
    return kind ? { ignored: `object_kind is ${kind}, not deployment` } : wrong('object_kind', 'is required');
  const status = str(body.status);
  if (!status) return wrong('status', 'is required');
  if (typeof body.deployment_id !== 'number') return wrong('deployment_id', 'is required (a number)');
  const project = body.project;
  if (!isObj(project)) return wrong('project', 'is required (an object)');
  const path = str(project.path_with_namespace);
  if (!path) return wrong('project.path_with_namespace', 'is required');
  if (!gitlabFinal.has(status))
    return { ignored: `status is ${status}: only success and failed are changes` };
  const at = gitlabTime(str(body.status_changed_at));
  if (!at) return wrong('status_changed_at', 'must be a date-time (2021-04-28 21:50:00 +0200)');
  const environment = str(body.environment) ?? 'an environment';
  const sha = str(body.short_sha);
  const title = str(body.commit_title);
  const user = isObj(body.user) ? (str(body.user.username) ?? str(body.user.name)) : undefined;
  return finish(
    {
      id: `gitlab:${path}:deployment:${body.deployment_id}:${status}`,
      who: user ?? 'GitLab',
      what:
        `GitLab deployment of ${path}${sha ? `@${sha}` : ''} to ${environment}: ${status}` +
        (title ? ` — ${title}` : ''),
      hosts: hostOf(body.environment_external_url),
      services: uniq([path.split('/').at(-1)!]),
      at,
    },
    t,
  );
}
