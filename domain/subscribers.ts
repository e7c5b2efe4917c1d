/**
 * Status page subscribers, as pure code: which addresses a status message or resolution goes to
 * (the config's `services[].subscribers` and those who subscribed on the status page, less those
 * who unsubscribed, each address once), what the mails say, and what a subscribe request may
 * contain. No I/O: the worker's subscriber notices and the API's subscribe routes call these.
 */

export type SubscriberKind = 'email' | 'webhook';

export interface SubscriberRecipient {
  /** The service id of the component the address subscribed to. */
  component: string;
  kind: SubscriberKind;
  address: string;
  name?: string;
}

/** The components an incident affects: its service and every service depending on it, that has a `component`. */
export function affectedComponents(
  services: readonly { id: string; component?: string }[],
  incident: { service: { id: string }; affected?: readonly { id: string }[] },
): string[] {
  const ids = new Set([incident.service.id, ...(incident.affected ?? []).map((a) => a.id)]);
  return services.filter((s) => s.component && ids.has(s.id)).map((s) => s.id);
}

/**
 * Everyone to tell, in order: configured subscribers with an email first (config order), then the
 * stored subscriptions; an address on an unsubscribe list (`component\nkind\naddress`) is left out;
 * an address subscribed to several affected components is told once.
 */
export function subscriberRecipients(
  services: readonly { id: string; subscribers: readonly { name: string; email?: string }[] }[],
  components: readonly string[],
  stored: readonly SubscriberRecipient[],
  unsubscribed: ReadonlySet<string>,
): SubscriberRecipient[] {
  const out: SubscriberRecipient[] = [];
  const seen = new Set<string>();
  const add = (r: SubscriberRecipient) => {
    const key = `${r.kind}\n${r.address}`;
    if (seen.has(key) || unsubscribed.has(`${r.component}\n${r.kind}\n${r.address}`)) return;
    seen.add(key);
    out.push(r);
  };
  for (const id of components) {
    const s = services.find((x) => x.id === id);
    for (const sub of s?.subscribers ?? [])
      if (sub.email)
        add({ component: id, kind: 'email', address: normalizeEmail(sub.email), name: sub.name });
  }
  for (const r of stored) if (components.includes(r.component)) add(r);
  return out;
}

export const normalizeEmail = (s: string) => s.trim().toLowerCase();

/** An email address a mail can go to (one address, no display name), or undefined. */
export function parseEmail(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const s = normalizeEmail(raw);
  if (s.length > 254) return undefined;
  return /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(
    s,
  )
    ? s
    : undefined;
}

/**
 * A webhook URL anyone may subscribe: https, no credentials, no IP-literal or local host (the
 * worker must not be made to post into its own network). The error names what is wrong.
 */
export function parseWebhookUrl(raw: unknown): { url: string } | { error: string } {
  if (typeof raw !== 'string' || raw.trim() === '') return { error: 'is required' };
  if (raw.length > 2000) return { error: 'is too long' };
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { error: 'is not a URL' };
  }
  if (u.protocol !== 'https:') return { error: 'must be an https:// URL' };
  if (u.username || u.password) return { error: 'must not carry a user or password' };
  const host = u.hostname.toLowerCase();
  if (
    /^\[.*\]$/.test(host) ||
    /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ||
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host.endsWith('.local') ||
    host.endsWith('.internal') ||
    !host.includes('.')
  )
    return { error: 'must name a public host (no IP address, localhost or local name)' };
  return { url: u.toString() };
}

const stateText: Record<string, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

export interface NoticeMail {
  subject: string;
  text: string;
}

/** The mail for a published status message, or (`resolved`) for the resolution. */
export function subscriberNoticeMail(n: {
  component: string;
  state: string;
  message?: string;
  at: string;
  resolved: boolean;
  statusUrl: string;
  unsubscribeUrl: string;
}): NoticeMail {
  const when = `${n.at.slice(0, 16).replace('T', ' ')} UTC`;
  const subject = n.resolved
    ? `[Resolved] ${n.component}`
    : `[${stateText[n.state] ?? n.state}] ${n.component}`;
  const lines = n.resolved
    ? [`${n.component} is working normally again (${when}).`, '', ...(n.message ? [n.message, ''] : [])]
    : [`${stateText[n.state] ?? n.state} — ${n.component} (${when})`, '', n.message ?? '', ''];
  return {
    subject,
    text: [
      ...lines,
      `Status page: ${n.statusUrl}`,
      '',
      '--',
      `You get this because you subscribed to ${n.component} on the status page.`,
      `Unsubscribe: ${n.unsubscribeUrl}`,
      '',
    ].join('\n'),
  };
}

export function confirmationMail(n: {
  component: string;
  confirmUrl: string;
  statusUrl: string;
}): NoticeMail {
  return {
    subject: `Confirm your subscription to ${n.component}`,
    text: [
      `Someone (we hope you) asked to get an email when the status of ${n.component} changes.`,
      '',
      `Confirm the subscription: ${n.confirmUrl}`,
      '',
      'If it was not you, ignore this mail: nothing is sent to this address unless the link is used.',
      `Status page: ${n.statusUrl}`,
      '',
    ].join('\n'),
  };
}
